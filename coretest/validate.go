package coretest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validation rules of reference §4.2. Each function returns the message
// that follows "Invalid input: " in Core's 400 body, or "".

func validateEventType(t string) string {
	switch {
	case t == "":
		return "event_type cannot be empty"
	case utf8.RuneCountInString(t) > 128:
		return fmt.Sprintf("event_type cannot exceed 128 characters, got %d", utf8.RuneCountInString(t))
	case strings.HasPrefix(t, "_system."):
		return fmt.Sprintf("event_type '%s' uses the reserved prefix '_system.'", t)
	case strings.HasPrefix(t, ".") || strings.HasSuffix(t, "."):
		return fmt.Sprintf("event_type '%s' cannot start or end with a dot", t)
	case strings.Contains(t, ".."):
		return fmt.Sprintf("event_type '%s' cannot contain consecutive dots", t)
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return fmt.Sprintf("event_type '%s' must contain only lowercase letters, digits, dots and underscores", t)
		}
	}
	return ""
}

func validateEntityID(id string) string {
	n := utf8.RuneCountInString(id)
	switch {
	case id == "":
		return "entity_id cannot be empty"
	case n > 128:
		return fmt.Sprintf("entity_id cannot exceed 128 characters, got %d", n)
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

func validateTenantID(id string) string {
	n := len(id)
	switch {
	case id == "":
		return "tenant_id cannot be empty"
	case utf8.RuneCountInString(id) > 64:
		return fmt.Sprintf("tenant_id cannot exceed 64 characters, got %d", n)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("tenant_id '%s' must contain only alphanumeric characters, hyphens and underscores", id)
		}
	}
	return ""
}
