package decodecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

// refEvent, refArchive and refPage mirror common.Event,
// common.ArchiveIntegrity and common.QueryEventsResponse without methods:
// encoding/json decodes them by reflection.
type refEvent struct {
	ID        string          `json:"id"`
	EventType string          `json:"event_type"`
	EntityID  string          `json:"entity_id"`
	TenantID  string          `json:"tenant_id"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp time.Time       `json:"timestamp"`
	Metadata  json.RawMessage `json:"metadata"`
	Version   int64           `json:"version"`
}

type refArchive struct {
	Protocol string `json:"protocol"`
	TenantID string `json:"tenant_id"`
	EntityID string `json:"entity_id"`
}

type refPage struct {
	Events           []refEvent              `json:"events"`
	Count            int64                   `json:"count"`
	TotalCount       int64                   `json:"total_count"`
	HasMore          bool                    `json:"has_more"`
	EntityVersion    runtime.Opt[int64]      `json:"entity_version"`
	ArchiveIntegrity runtime.Opt[refArchive] `json:"archive_integrity"`
}

// members lists the member names of each mirrored type.
var members = map[string][]string{
	"page":    {"events", "count", "total_count", "has_more", "entity_version", "archive_integrity"},
	"event":   {"id", "event_type", "entity_id", "tenant_id", "payload", "timestamp", "metadata", "version"},
	"archive": {"protocol", "tenant_id", "entity_id"},
}

// mirror turns a decoded page into its mirror, dropping unknown members.
func mirror(p *common.QueryEventsResponse) refPage {
	out := refPage{Count: p.Count, TotalCount: p.TotalCount, HasMore: p.HasMore, EntityVersion: p.EntityVersion}
	if p.Events != nil {
		out.Events = make([]refEvent, len(p.Events))
	}
	for i, e := range p.Events {
		out.Events[i] = refEvent{ID: e.ID, EventType: e.EventType, EntityID: e.EntityID, TenantID: e.TenantID,
			Payload: e.Payload, Timestamp: e.Timestamp, Metadata: e.Metadata, Version: e.Version}
	}
	if a := p.ArchiveIntegrity; a != nil {
		out.ArchiveIntegrity = runtime.Some(refArchive{Protocol: a.Protocol, TenantID: a.TenantID, EntityID: a.EntityID})
	}
	return out
}

// unknown returns the members of the object raw not named in known, as
// encoding/json decodes them, or nil when raw is not an object.
func unknown(raw json.RawMessage, known []string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	for _, k := range known {
		delete(m, k)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// shape describes what a comparison of decoded values must allow for.
type shape struct {
	duplicates bool // some object has a member twice
	folded     bool // some member name equals a known one but for case
}

// inspect walks valid JSON and reports its shape.
func inspect(data []byte) (shape, error) {
	var s shape
	known := map[string]bool{}
	for _, names := range members {
		for _, n := range names {
			known[n] = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		seen   map[string]bool
		key    bool // the next string token is a member name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if name, isKey := tok.(string); isKey && top != nil && top.object && top.key {
			if top.seen[name] {
				s.duplicates = true
			}
			top.seen[name] = true
			if !known[name] {
				for k := range known {
					if strings.EqualFold(k, name) {
						s.folded = true
					}
				}
			}
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, seen: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// check decodes data both ways and reports how they disagree.
func check(data []byte) error {
	var s shape
	if json.Valid(data) {
		var err error
		if s, err = inspect(data); err != nil {
			return fmt.Errorf("inspect: %w", err)
		}
		if s.folded {
			// encoding/json matches member names case-insensitively, so it
			// may decode (or refuse) a member that ours keep as unknown.
			return nil
		}
	}
	in := bytes.Clone(data)
	var got common.QueryEventsResponse
	gotErr := got.UnmarshalJSON(in)
	var want refPage
	wantErr := json.Unmarshal(data, &want)
	var missing *runtime.MissingMemberError
	if errors.As(gotErr, &missing) && wantErr == nil {
		// encoding/json does not check required members; ours refuse an
		// object without one (the golden decoder tests pin which).
		return nil
	}
	var ute *json.UnmarshalTypeError
	if gotErr == nil && errors.As(wantErr, &ute) && strings.HasPrefix(ute.Value, "number ") {
		// An integer spelled with a fraction or an exponent (1.0, 1e3):
		// ours read its value, encoding/json refuses the spelling.
		return nil
	}
	if (gotErr != nil) != (wantErr != nil) {
		return fmt.Errorf("generated decoder error %v, encoding/json error %v", gotErr, wantErr)
	}
	if gotErr != nil {
		return nil
	}
	// What the decoder kept must not alias its input.
	for i := range in {
		in[i] = 'x'
	}
	if m := mirror(&got); !reflect.DeepEqual(m, want) {
		return fmt.Errorf("decoded values differ:\n got %+v\nwant %+v", m, want)
	}
	if s.duplicates {
		return nil
	}
	if w := unknown(data, members["page"]); !reflect.DeepEqual(got.AdditionalProperties, w) {
		return fmt.Errorf("unknown members of the page: got %q, want %q", got.AdditionalProperties, w)
	}
	var top struct {
		Events           []json.RawMessage `json:"events"`
		ArchiveIntegrity json.RawMessage   `json:"archive_integrity"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil // null, or members of other types: already compared
	}
	for i, raw := range top.Events {
		if w := unknown(raw, members["event"]); !reflect.DeepEqual(got.Events[i].AdditionalProperties, w) {
			return fmt.Errorf("unknown members of event %d: got %q, want %q", i, got.Events[i].AdditionalProperties, w)
		}
	}
	var archived map[string]json.RawMessage
	if got.ArchiveIntegrity != nil {
		archived = got.ArchiveIntegrity.AdditionalProperties
	}
	if w := unknown(top.ArchiveIntegrity, members["archive"]); !reflect.DeepEqual(archived, w) {
		return fmt.Errorf("unknown members of archive_integrity: got %q, want %q", archived, w)
	}
	return nil
}

// realPage returns the body of a query page of a few events ingested into
// the embedded Core.
func realPage(tb testing.TB) []byte {
	tb.Helper()
	srv := coretest.NewServer(coretest.WithAPIKeys("ask_decode-check"))
	defer srv.Close()
	c, err := allsource.NewCoreClient(srv.URL, "ask_decode-check")
	if err != nil {
		tb.Fatal(err)
	}
	batch := []allsource.NewEvent{
		{Type: "order.placed", EntityID: "order-1", Payload: map[string]any{"total": 12.5, "lines": []any{"a", "b"}, "note": "caf\u00e9 \"quoted\" \u2028"}},
		{Type: "order.paid", EntityID: "order-1", Payload: "just a string", Metadata: map[string]any{"source": "pos", "n": 1}},
		{Type: "order.shipped", EntityID: "order-1", Payload: []any{1, 2.5, nil, true}},
	}
	if _, err := c.IngestBatch(context.Background(), batch); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/events/query?entity_id=order-1", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer ask_decode-check")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("query: %d %v", resp.StatusCode, err)
	}
	return body
}

var seeds = []string{
	`{"events":[],"count":0,"total_count":0,"has_more":false}`,
	`{"events":[{"id":"a","event_type":"t","entity_id":"e","tenant_id":"default","payload":{},"timestamp":"2024-01-02T03:04:05.5Z","metadata":null,"version":1,"extra":[1]}],"count":1,"total_count":9,"has_more":true,"entity_version":3,"archive_integrity":{"protocol":"retained-entity-v1","tenant_id":"t","entity_id":"e","x":{}},"next":"n"}`,
	`{"events":[{"id":"a"},{"id":"b"}],"events":[{"version":2}]}`,
	`{"events":null,"count":null,"entity_version":null,"archive_integrity":null}`,
	`{"events":[null,{"payload":"\ud800\u00e9","metadata":[]}]}`,
	"{\"events\":[{\"id\":\"\xff\xfe\"}],\"\xffkey\":1}",
	`{"Count":5,"count":1}`,
	`{"events":[{"timestamp":"2024-01-02T03:04:05+01:00"}]}`,
	`{"events":[{"timestamp":"not a time"}]}`,
	`{"count":9223372036854775808}`,
	`{"count":1.0}`,
	`{"has_more":"yes"}`,
	`{"events":{}}`,
	`{"events":[1]}`,
	`{"count":1}  `,
	`{"count":1} 2`,
	`{"events":[{"payload":[1,2}]}`,
	`null`,
	`[]`,
	``,
}

// TestAgreesOnSeeds runs the differential check on the seeds and a real page.
func TestAgreesOnSeeds(t *testing.T) {
	inputs := append([]string{string(realPage(t))}, seeds...)
	for _, in := range inputs {
		if err := check([]byte(in)); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestRealPageKeepsEveryEvent decodes a real page and compares it with the
// events as ingested.
func TestRealPageKeepsEveryEvent(t *testing.T) {
	var p common.QueryEventsResponse
	if err := p.UnmarshalJSON(realPage(t)); err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 3 || p.Count != 3 || p.Events[2].Version != 3 || p.Events[0].Timestamp.IsZero() {
		t.Fatalf("page: %+v", p)
	}
	var first struct {
		Note string `json:"note"`
	}
	if err := json.Unmarshal(p.Events[0].Payload, &first); err != nil || first.Note != "caf\u00e9 \"quoted\" \u2028" {
		t.Fatalf("payload %s: %v %q", p.Events[0].Payload, err, first.Note)
	}
	if string(p.Events[0].Metadata) != "null" {
		t.Errorf("metadata of an event ingested without any: %s", p.Events[0].Metadata)
	}
}

// TestErrorsStayProtocolErrors makes sure a 200 body the decoder refuses
// comes back from a call as a *runtime.ProtocolError naming the member.
func TestErrorsStayProtocolErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"events":[{"version":"one"}],"count":1,"total_count":1,"has_more":false}`)
	}))
	defer srv.Close()
	c, err := core.NewClient(srv.URL, runtime.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.QueryEvents(context.Background(), core.QueryEventsParams{})
	var pe *runtime.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "Event.version") {
		t.Fatalf("got %v, want a *runtime.ProtocolError naming Event.version", err)
	}
}

// FuzzQueryPage feeds random bytes to the generated decoder of a query
// page and to encoding/json: they must agree on valid and invalid input and
// on every decoded value.
func FuzzQueryPage(f *testing.F) {
	f.Add(realPage(f))
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := check(data); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkDecodePage decodes a 1,000-event page from memory: the generated
// decoder against encoding/json into the method-less mirror, without the
// HTTP round trip of internal/benchcmp.
func BenchmarkDecodePage(b *testing.B) {
	one := realPage(b)
	var p refPage
	if err := json.Unmarshal(one, &p); err != nil {
		b.Fatal(err)
	}
	for len(p.Events) < 1000 {
		p.Events = append(p.Events, p.Events...)
	}
	p.Events = p.Events[:1000]
	data, err := json.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decoder=generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v common.QueryEventsResponse
			if err := v.UnmarshalJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decoder=encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v refPage
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
