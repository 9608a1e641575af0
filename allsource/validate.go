package allsource

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidArgument is matched (with errors.Is) by every error that rejects
// an argument before a request is sent.
var ErrInvalidArgument = errors.New("allsource: invalid argument")

// ArgumentError reports an argument that Core would refuse. It is returned
// before any request is sent.
type ArgumentError struct {
	// Field names the argument, for example "event_type".
	Field string
	// Value is the rejected value.
	Value string
	// Reason says which rule it breaks.
	Reason string
}

// Error describes the rejected argument.
func (e *ArgumentError) Error() string {
	return fmt.Sprintf("allsource: invalid %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is reports whether target is ErrInvalidArgument.
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// Limits Core applies to identifiers (reference §4.2): MaxEntityIDLen
// counts bytes, the others characters.
const (
	MaxEventTypeLen = 128
	MaxEntityIDLen  = 128
	MaxTenantIDLen  = 64
)

// ValidateEventType checks an event type against Core's rules: 1 to 128
// characters, only lowercase letters (Unicode ones included, as Rust's
// char::is_lowercase admits them), ASCII digits, '.' and '_', no leading or
// trailing '.', no "..", and not in the reserved "_system." namespace.
func ValidateEventType(t string) error {
	bad := func(reason string) error { return &ArgumentError{Field: "event_type", Value: t, Reason: reason} }
	switch {
	case t == "":
		return bad("must not be empty")
	case !utf8.ValidString(t):
		return bad("must be valid UTF-8")
	case utf8.RuneCountInString(t) > MaxEventTypeLen:
		return bad(fmt.Sprintf("longer than %d characters", MaxEventTypeLen))
	case strings.HasPrefix(t, "_system."):
		return bad(`the "_system." prefix is reserved`)
	case t[0] == '.' || t[len(t)-1] == '.':
		return bad("must not start or end with '.'")
	case strings.Contains(t, ".."):
		return bad(`must not contain ".."`)
	}
	for _, c := range t {
		if !(isLowercase(c) || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return bad(fmt.Sprintf("character %q not allowed (use lowercase letters, digits, '.' and '_')", c))
		}
	}
	return nil
}

// isLowercase reports whether c is lowercase as Rust's char::is_lowercase
// sees it (the Unicode Lowercase property).
func isLowercase(c rune) bool {
	return unicode.IsLower(c) || unicode.Is(unicode.Other_Lowercase, c)
}

// ValidateEntityID checks an entity id against Core's rules: 1 to 128 bytes
// of UTF-8 (Core counts bytes, not characters), no control characters, not
// only white space, and no leading or trailing white space. Anything else
// (':', '@', '/') is allowed.
func ValidateEntityID(id string) error {
	bad := func(reason string) error { return &ArgumentError{Field: "entity_id", Value: id, Reason: reason} }
	if id == "" {
		return bad("must not be empty")
	}
	if !utf8.ValidString(id) {
		return bad("must be valid UTF-8")
	}
	if len(id) > MaxEntityIDLen {
		return bad(fmt.Sprintf("longer than %d bytes", MaxEntityIDLen))
	}
	if strings.TrimSpace(id) == "" {
		return bad("must not be only white space")
	}
	first, _ := utf8.DecodeRuneInString(id)
	last, _ := utf8.DecodeLastRuneInString(id)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return bad("must not start or end with white space")
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return bad("must not contain control characters")
		}
	}
	return nil
}

// ValidateTenantID checks a tenant id against Core's rules: 1 to 64
// characters, letters and digits (Unicode ones included, as Rust's
// char::is_alphanumeric admits them), '-' and '_'.
func ValidateTenantID(id string) error {
	bad := func(reason string) error { return &ArgumentError{Field: "tenant_id", Value: id, Reason: reason} }
	if id == "" {
		return bad("must not be empty")
	}
	if !utf8.ValidString(id) {
		return bad("must be valid UTF-8")
	}
	if utf8.RuneCountInString(id) > MaxTenantIDLen {
		return bad(fmt.Sprintf("longer than %d characters", MaxTenantIDLen))
	}
	for _, c := range id {
		if !(unicode.IsLetter(c) || unicode.IsNumber(c) || unicode.Is(unicode.Other_Alphabetic, c) || c == '-' || c == '_') {
			return bad(fmt.Sprintf("character %q not allowed (use letters, digits, '-' and '_')", c))
		}
	}
	return nil
}

// NormalizeEventType rewrites an event type the way the official Rust SDK
// does before sending it: a name containing '.' is lowercased; '_' and '-'
// become '.'; PascalCase and camelCase are split at case boundaries. For
// example "VerificationCreated" becomes "verification.created",
// "APIKeyCreated" becomes "api.key.created" and "order_placed" becomes
// "order.placed". The result still has to pass ValidateEventType.
func NormalizeEventType(t string) string {
	switch {
	case strings.Contains(t, "."):
		return strings.ToLower(t)
	case strings.ContainsAny(t, "_-"):
		return strings.ToLower(strings.Map(func(r rune) rune {
			if r == '_' || r == '-' {
				return '.'
			}
			return r
		}, t))
	}
	rs := []rune(t)
	var b strings.Builder
	b.Grow(len(t) + 4)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			// A boundary before an upper-case letter that follows a lower-case
			// letter or digit ("userCreated"), or that ends an acronym and
			// starts a word ("APIKey": before the K).
			if !unicode.IsUpper(prev) || nextLower {
				b.WriteByte('.')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ValidateFilter checks one event-type filter of a durable consumer or a
// stream subscription. A filter is either an exact event type
// ("order.placed") or a prefix pattern "x.*" matching the types that start
// with "x." (Core's consumer registry also lets "x.*" match "x" itself; the
// live stream does not). A filter that can never match anything, such as
// "asset." (an exact match on a type Core refuses to store) or "*", is
// rejected with a hint.
func ValidateFilter(f string) error {
	bad := func(reason string) error { return &ArgumentError{Field: "filter", Value: f, Reason: reason} }
	if f == "*" || f == ".*" {
		return bad(`matches nothing; pass no filters to receive every event type`)
	}
	if prefix, ok := strings.CutSuffix(f, ".*"); ok {
		if err := ValidateEventType(prefix); err != nil {
			return bad(fmt.Sprintf("prefix %q is not a valid event type, so the pattern matches nothing", prefix))
		}
		return nil
	}
	switch {
	case strings.HasSuffix(f, "."):
		return bad(fmt.Sprintf("an exact match on a type ending in '.' matches nothing; did you mean %q?", f+"*"))
	case strings.HasSuffix(f, "*"):
		return bad(fmt.Sprintf("'*' is only allowed as the last segment after a dot; did you mean %q?", strings.TrimSuffix(f, "*")+".*"))
	}
	if err := ValidateEventType(f); err != nil {
		return bad("not a valid event type, so it matches nothing: " + err.(*ArgumentError).Reason)
	}
	return nil
}
