package projection

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestRecordEncodingRoundTrips(t *testing.T) {
	for _, r := range []record{
		{Snapshot: Snapshot{Format: SnapshotFormat, Consumer: "c", Position: 9, Versions: map[string]int64{}, State: json.RawMessage(`{"a":[1,2]}`),
			SavedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}, Through: 4},
		{Snapshot: Snapshot{Format: SnapshotFormat, Consumer: "ünï \"q\"\n", EventTypes: []string{"a.*", "b"}, Position: 1 << 40,
			Versions: map[string]int64{"default/x": 3, "t/\u2028\\": 1}, Applied: 7, Keyed: true, Delta: true,
			Entries: map[string]json.RawMessage{"x": json.RawMessage(`{"n":1}`), "<&>": json.RawMessage(`"s"`)},
			Deleted: []string{"gone", "é"}}, Seq: 12},
	} {
		data, err := encodeRecord(&r)
		if err != nil {
			t.Fatal(err)
		}
		var std record
		if err := json.Unmarshal(data, &std); err != nil {
			t.Fatalf("encoding/json cannot read %s: %v", data, err)
		}
		got, err := parseRecord(data)
		if err != nil {
			t.Fatalf("parseRecord(%s): %v", data, err)
		}
		std.SavedAt, got.SavedAt, r.SavedAt = std.SavedAt.UTC(), got.SavedAt.UTC(), r.SavedAt.UTC()
		if !reflect.DeepEqual(got, r) || !reflect.DeepEqual(std, r) {
			t.Fatalf("round trip of %s:\n got %+v\n std %+v\nwant %+v", data, got, std, r)
		}
	}
	if _, err := parseRecord([]byte(`{"format":2,"versions":{"a":1.5}}`)); err == nil {
		t.Error("a fractional version was accepted")
	}
	if _, err := encodeRecord(&record{Snapshot: Snapshot{State: json.RawMessage(`{`)}}); err == nil {
		t.Error("an invalid state was encoded")
	}
}

func TestEncodeValueMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{0, -7, int64(1) << 62, int32(-5), uint64(1) << 63, true, false, 1.5, "s\"<", []int{1}, nil} {
		got, err := appendValue(nil, v)
		want, _ := json.Marshal(v)
		if err != nil || string(got) != string(want) {
			t.Errorf("appendValue(nil, %#v) = %s, %v; want %s", v, got, err, want)
		}
	}
}
