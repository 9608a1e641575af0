package allsource

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateEventType(t *testing.T) {
	// Core admits Unicode lowercase letters (reference §14 #5).
	ok := []string{"user.created", "order.line_item.added", "a", "v2.event", strings.Repeat("a", 128), "ü", "заказ.создан", strings.Repeat("é", 128)}
	for _, s := range ok {
		if err := ValidateEventType(s); err != nil {
			t.Errorf("ValidateEventType(%q) = %v, want nil", s, err)
		}
	}
	bad := []string{"", "User.Created", ".user", "user.", "user..created", "_system.x", "user-created", "user created", strings.Repeat("a", 129), "Ü", "\xff"}
	for _, s := range bad {
		err := ValidateEventType(s)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ValidateEventType(%q) = %v, want ErrInvalidArgument", s, err)
		}
		var ae *ArgumentError
		if !errors.As(err, &ae) || ae.Field != "event_type" {
			t.Errorf("ValidateEventType(%q): want *ArgumentError for event_type, got %#v", s, err)
		}
	}
}

func TestValidateEntityID(t *testing.T) {
	// Core counts the length in bytes (reference §14 #4).
	ok := []string{"user-1", "order:42", "a@b/c", "Ünïcode id", strings.Repeat("é", 64)}
	for _, s := range ok {
		if err := ValidateEntityID(s); err != nil {
			t.Errorf("ValidateEntityID(%q) = %v, want nil", s, err)
		}
	}
	bad := []string{"", "   ", " lead", "trail ", "tab\tinside", "nl\n", strings.Repeat("x", 129), strings.Repeat("é", 65), "\xff"}
	for _, s := range bad {
		if err := ValidateEntityID(s); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ValidateEntityID(%q) = %v, want ErrInvalidArgument", s, err)
		}
	}
}

func TestValidateTenantID(t *testing.T) {
	// Core admits Unicode alphanumerics (reference §14 #5).
	for _, s := range []string{"default", "acme-co_2", strings.Repeat("t", 64), "é", "Zürich_東京", strings.Repeat("é", 64)} {
		if err := ValidateTenantID(s); err != nil {
			t.Errorf("ValidateTenantID(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"", "a.b", "a b", "a/b", strings.Repeat("t", 65), "\xff"} {
		if err := ValidateTenantID(s); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ValidateTenantID(%q) = %v, want ErrInvalidArgument", s, err)
		}
	}
}

func TestNormalizeEventType(t *testing.T) {
	cases := map[string]string{
		"VerificationCreated": "verification.created",
		"APIKeyCreated":       "api.key.created",
		"userCreated":         "user.created",
		"order_placed":        "order.placed",
		"order-placed":        "order.placed",
		"Order.Placed":        "order.placed",
		"user.created":        "user.created",
		"simple":              "simple",
		"HTTPRequest":         "http.request",
		"Order2Shipped":       "order2.shipped",
	}
	for in, want := range cases {
		if got := NormalizeEventType(in); got != want {
			t.Errorf("NormalizeEventType(%q) = %q, want %q", in, got, want)
		}
		if err := ValidateEventType(NormalizeEventType(in)); err != nil {
			t.Errorf("normalized %q does not validate: %v", in, err)
		}
	}
}

func TestValidateFilter(t *testing.T) {
	for _, f := range []string{"asset.*", "trade.created", "a.b.*", "order"} {
		if err := ValidateFilter(f); err != nil {
			t.Errorf("ValidateFilter(%q) = %v, want nil", f, err)
		}
	}
	for f, hint := range map[string]string{
		"asset.": `"asset.*"`, "*": "no filters", ".*": "no filters", "asset*": `"asset.*"`,
		"Asset.*": "prefix", "a..b": "matches nothing", "": "matches nothing",
	} {
		err := ValidateFilter(f)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ValidateFilter(%q) = %v, want ErrInvalidArgument", f, err)
			continue
		}
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("ValidateFilter(%q) = %q, want a hint containing %s", f, err, hint)
		}
	}
}
