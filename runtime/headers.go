package runtime

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ResponseHeader reads the response header name with parse. present is false
// when the response does not carry it; err says why a value present could
// not be parsed. A header sent several times is read as one comma-separated
// list (RFC 9110, section 5.3).
func ResponseHeader[T any](h http.Header, name string, parse func(string) (T, error)) (v T, present bool, err error) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return v, false, nil
	}
	s := strings.TrimSpace(strings.Join(vs, ", "))
	v, err = parse(s)
	if err != nil {
		return v, true, fmt.Errorf("header %s: %w", name, err)
	}
	return v, true, nil
}

// OptHeader reads the optional response header name with parse into *dst,
// which stays unset when the header is absent.
func OptHeader[T any](h http.Header, name string, parse func(string) (T, error), dst *Opt[T]) error {
	v, ok, err := ResponseHeader(h, name, parse)
	if err != nil {
		return err
	}
	if ok {
		*dst = Some(v)
	}
	return nil
}

// RequiredHeader is ResponseHeader for a header the document requires: a
// response without it is an error.
func RequiredHeader[T any](h http.Header, name string, parse func(string) (T, error)) (T, error) {
	v, ok, err := ResponseHeader(h, name, parse)
	if err == nil && !ok {
		err = fmt.Errorf("required header %s is missing", name)
	}
	return v, err
}

// ParseString returns s: the parser of a string header.
func ParseString(s string) (string, error) { return s, nil }

// ParseInt64 parses a decimal integer header.
func ParseInt64(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

// ParseInt32 parses a decimal 32-bit integer header.
func ParseInt32(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	return int32(n), err
}

// ParseInt parses a decimal integer header.
func ParseInt(s string) (int, error) { return strconv.Atoi(s) }

// ParseFloat64 parses a number header.
func ParseFloat64(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// ParseFloat32 parses a 32-bit number header.
func ParseFloat32(s string) (float32, error) {
	f, err := strconv.ParseFloat(s, 32)
	return float32(f), err
}

// ParseBool parses a boolean header ("true" or "false").
func ParseBool(s string) (bool, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("not true or false")
}

// ParseTime parses a date-time header: RFC 3339, as the document's
// date-time format says, or the HTTP date of RFC 9110 that headers such as
// Last-Modified use.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 or HTTP date")
	}
	return t, nil
}

// ParseList returns a parser of a comma-separated list (the simple style of
// an array header) whose items parse with item.
func ParseList[T any](item func(string) (T, error)) func(string) ([]T, error) {
	return func(s string) ([]T, error) {
		if s == "" {
			return []T{}, nil
		}
		parts := strings.Split(s, ",")
		out := make([]T, 0, len(parts))
		for i, p := range parts {
			v, err := item(strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
}
