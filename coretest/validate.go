package coretest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validation rules of reference §4.2 and §14 (#4, #5). Each function
// returns the message that follows "Invalid input: " in Core's 400 body, or
// "".

// reservedTypeError is the whole of Core's 400 body text for an event type
// in the reserved namespace (reference §14 #11): the store refuses it after
// the value objects accepted it, as a validation error.
const reservedTypeError = "Validation error: Event types starting with '_system.' are reserved for internal use"

// isLowercase reports whether c is a lowercase letter as Rust's
// char::is_lowercase sees it (the Lowercase derived property).
func isLowercase(c rune) bool {
	return unicode.IsLower(c) || unicode.Is(unicode.Other_Lowercase, c)
}

// isAlphanumeric reports whether c is alphanumeric as Rust's
// char::is_alphanumeric sees it (Alphabetic or Numeric).
func isAlphanumeric(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsNumber(c) || unicode.Is(unicode.Other_Alphabetic, c)
}

// validateEventType applies the EventType value object's rules: Unicode
// lowercase letters, ASCII digits, '.' and '_'. The reserved "_system."
// prefix is the store's check, made later (see reservedTypeError).
func validateEventType(t string) string {
	switch {
	case t == "":
		return "event_type cannot be empty"
	case utf8.RuneCountInString(t) > 128:
		return fmt.Sprintf("event_type cannot exceed 128 characters, got %d", utf8.RuneCountInString(t))
	case strings.HasPrefix(t, ".") || strings.HasSuffix(t, "."):
		return fmt.Sprintf("event_type '%s' cannot start or end with a dot", t)
	case strings.Contains(t, ".."):
		return fmt.Sprintf("event_type '%s' cannot contain consecutive dots", t)
	}
	for _, c := range t {
		if !(isLowercase(c) || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return fmt.Sprintf("event_type '%s' must contain only lowercase letters, digits, dots and underscores", t)
		}
	}
	return ""
}

// validateEntityID applies the EntityId value object's rules; its length
// is counted in bytes (reference §14 #4).
func validateEntityID(id string) string {
	switch {
	case id == "":
		return "entity_id cannot be empty"
	case len(id) > 128:
		return fmt.Sprintf("entity_id cannot exceed 128 characters, got %d", len(id))
	case strings.TrimSpace(id) == "":
		return "entity_id cannot be only whitespace"
	case strings.TrimSpace(id) != id:
		return "entity_id cannot have leading or trailing whitespace"
	}
	for _, c := range id {
		if unicode.IsControl(c) {
			return "entity_id cannot contain control characters"
		}
	}
	return ""
}

// validateTenantID applies the TenantId value object's rules: Unicode
// alphanumerics, '-' and '_' (reference §14 #5).
func validateTenantID(id string) string {
	n := utf8.RuneCountInString(id)
	switch {
	case id == "":
		return "tenant_id cannot be empty"
	case n > 64:
		return fmt.Sprintf("tenant_id cannot exceed 64 characters, got %d", n)
	}
	for _, c := range id {
		if !(isAlphanumeric(c) || c == '-' || c == '_') {
			return fmt.Sprintf("tenant_id '%s' must contain only alphanumeric characters, hyphens and underscores", id)
		}
	}
	return ""
}
