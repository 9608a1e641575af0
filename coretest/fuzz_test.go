package coretest

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPayloadFilter checks that an object payload always matches a filter
// made of its own members (JSON equality is reflexive) and that no input
// makes the filter code panic.
func FuzzPayloadFilter(f *testing.F) {
	for _, seed := range []string{`{"a":1}`, `{"a":1.0,"b":"1"}`, `{"n":null,"x":[1,{"y":true}]}`, `{"big":123456789012345678901234567890}`, `[1]`, `"s"`, `{`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(payload), &obj); err != nil || obj == nil {
			payloadMatches([]byte(payload), map[string]any{"a": nil})
			return
		}
		if !payloadMatches([]byte(payload), decodeFilter(obj)) {
			t.Fatalf("payload %s does not match a filter of its own members", payload)
		}
	})
}

// FuzzClientFrame checks that no client frame makes the filter parser
// panic, and that a subscribe frame always clears the exact type.
func FuzzClientFrame(f *testing.F) {
	for _, seed := range []string{`{"type":"subscribe","filters":["a.*"]}`, `{"entity_id":"e","event_type_prefixes":["x"]}`, `{"type":1}`, `{"type":"subscribe","filters":5}`, `[]`, `null`, `nope`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, frame string) {
		exact := "t"
		lf := liveFilter{eventType: &exact}
		parseClientFrame([]byte(frame), &lf)
		var sub subscribeFrame
		var legacy legacyFrame
		isObject := strings.HasPrefix(strings.TrimSpace(frame), "{")
		switch {
		case !isObject:
			if lf.eventType == nil || *lf.eventType != "t" {
				t.Fatalf("non-object frame %s changed the filter", frame)
			}
		case json.Unmarshal([]byte(frame), &sub) == nil && sub.Type == "subscribe":
			if lf.eventType != nil {
				t.Fatalf("subscribe frame %s kept the exact type", frame)
			}
		case json.Unmarshal([]byte(frame), &legacy) == nil:
			if (legacy.EventType == nil) != (lf.eventType == nil) {
				t.Fatalf("legacy frame %s: exact type %v", frame, lf.eventType)
			}
		default:
			if lf.eventType == nil || *lf.eventType != "t" {
				t.Fatalf("ignored frame %s changed the filter", frame)
			}
		}
		ev := wireEvent{EventType: "a.b", EntityID: "e"}
		lf.matches(&ev)
	})
}
