package runtime

import (
	"bytes"
	"encoding/json"
)

// Opt is an optional value: either absent or set to Value. The zero Opt is
// absent. Struct fields of type Opt should carry the `omitzero` JSON option so
// that an absent value is left out of the encoded object.
type Opt[T any] struct {
	Value T
	Set   bool
}

// Some returns an Opt set to v.
func Some[T any](v T) Opt[T] { return Opt[T]{Value: v, Set: true} }

// Get returns the value and whether it is set.
func (o Opt[T]) Get() (T, bool) { return o.Value, o.Set }

// Or returns the value when set and def otherwise.
func (o Opt[T]) Or(def T) T {
	if o.Set {
		return o.Value
	}
	return def
}

// IsZero reports whether the value is absent; encoding/json's omitzero uses it.
func (o Opt[T]) IsZero() bool { return !o.Set }

// MarshalJSON encodes the value (or null when absent and not omitted).
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// UnmarshalJSON decodes a value as the package's UnmarshalJSON does. A JSON
// null leaves the Opt absent, so that a server that sends null for a field it
// documents as optional is tolerated.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		var zero T
		*o = Opt[T]{Value: zero}
		return nil
	}
	if err := UnmarshalJSON(b, &o.Value); err != nil {
		return err
	}
	o.Set = true
	return nil
}

// Nullable is a value with three states: absent (the zero Nullable), null,
// and set to Value. Use NullOf to make a null and ValueOf to make a value.
type Nullable[T any] struct {
	Value T
	// Set reports whether the field was present, as null or as a value.
	Set bool
	// Null reports whether the field was present and null.
	Null bool
}

// ValueOf returns a Nullable set to v.
func ValueOf[T any](v T) Nullable[T] { return Nullable[T]{Value: v, Set: true} }

// NullOf returns a Nullable that is present and null.
func NullOf[T any]() Nullable[T] { return Nullable[T]{Set: true, Null: true} }

// Get returns the value and whether it is set to a non-null value.
func (n Nullable[T]) Get() (T, bool) { return n.Value, n.Set && !n.Null }

// IsNull reports whether the field was present and null.
func (n Nullable[T]) IsNull() bool { return n.Set && n.Null }

// IsZero reports whether the field is absent; encoding/json's omitzero uses it.
func (n Nullable[T]) IsZero() bool { return !n.Set }

// MarshalJSON encodes null or the value.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.Set || n.Null {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// UnmarshalJSON decodes null or a value (as the package's UnmarshalJSON
// does) and marks the field present.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		var zero T
		*n = Nullable[T]{Value: zero, Set: true, Null: true}
		return nil
	}
	if err := UnmarshalJSON(b, &n.Value); err != nil {
		return err
	}
	n.Set, n.Null = true, false
	return nil
}

func isNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }
