package benchcmp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/internal/benchcmp/oapi"
	"github.com/allsource-go/allsource/internal/benchcmp/oapicommon"
	"github.com/allsource-go/allsource/runtime"
)

const (
	pageSize = 1000
	entity   = "order-book"
	apiKey   = "ask_bench-key"
)

// page ingests pageSize realistic events into an embedded Core and returns
// the raw body of one query page holding all of them: the bytes every
// client below decodes.
func page(tb testing.TB) []byte {
	tb.Helper()
	srv := coretest.NewServer(coretest.WithAPIKeys(apiKey))
	defer srv.Close()
	c, err := allsource.NewCoreClient(srv.URL, apiKey)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	batch := make([]allsource.NewEvent, 0, pageSize)
	for i := range pageSize {
		batch = append(batch, allsource.NewEvent{
			Type:     "order.line_added",
			EntityID: entity,
			Payload:  map[string]any{"sku": fmt.Sprintf("SKU-%05d", i), "qty": i%7 + 1, "price_cents": 199 + i, "gift": i%3 == 0},
			Metadata: map[string]any{"correlation_id": fmt.Sprintf("c-%d", i/10), "source": "bench"},
		})
	}
	if _, err := c.IngestBatch(ctx, batch); err != nil {
		tb.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/events/query?entity_id="+entity+"&limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("page: %d %v", resp.StatusCode, err)
	}
	return body
}

// pageServer serves body for every query: the server side costs the same
// for all three clients, so the comparison measures the clients.
func pageServer(tb testing.TB, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// handEvent and handPage are what a careful hand-written client declares.
type handEvent struct {
	ID        string          `json:"id"`
	EventType string          `json:"event_type"`
	EntityID  string          `json:"entity_id"`
	TenantID  string          `json:"tenant_id"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp time.Time       `json:"timestamp"`
	Metadata  json.RawMessage `json:"metadata"`
	Version   int64           `json:"version"`
}

type handPage struct {
	Events     []handEvent `json:"events"`
	Count      int64       `json:"count"`
	TotalCount int64       `json:"total_count"`
	HasMore    bool        `json:"has_more"`
}

func handQuery(ctx context.Context, hc *http.Client, base string) (*handPage, error) {
	q := url.Values{"entity_id": {entity}, "limit": {"1000"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/events/query?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var p handPage
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

type clients struct {
	ours *core.Client
	oapi *oapi.ClientWithResponses
	hand *http.Client
	base string
}

func newClients(tb testing.TB, base string) clients {
	tb.Helper()
	ours, err := core.NewClient(base, runtime.WithBearerToken(apiKey))
	if err != nil {
		tb.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	oc, err := oapi.NewClientWithResponses(base, oapi.WithHTTPClient(&http.Client{Transport: tr}),
		oapi.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+apiKey)
			return nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	tr2 := http.DefaultTransport.(*http.Transport).Clone()
	tr2.MaxIdleConnsPerHost = 16
	return clients{ours: ours, oapi: oc, hand: &http.Client{Transport: tr2}, base: base}
}

var (
	oursParams = core.QueryEventsParams{EntityID: runtime.Some(common.EntityID(entity)), Limit: runtime.Some[int64](1000)}
	oapiParams = func() *oapi.QueryEventsParams {
		e, l := oapicommon.EntityId(entity), int64(1000)
		return &oapi.QueryEventsParams{EntityId: &e, Limit: &l}
	}()
)

// TestClientsDecodeTheSamePage makes sure the benchmark compares like with
// like: every client gets every event, field for field.
func TestClientsDecodeTheSamePage(t *testing.T) {
	body := page(t)
	cl := newClients(t, pageServer(t, body).URL)
	ctx := context.Background()
	ours, err := cl.ours.QueryEvents(ctx, oursParams)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := cl.oapi.QueryEventsWithResponse(ctx, oapiParams)
	if err != nil || theirs.JSON200 == nil {
		t.Fatalf("oapi-codegen client: %v", err)
	}
	hand, err := handQuery(ctx, cl.hand, cl.base)
	if err != nil {
		t.Fatal(err)
	}
	if len(ours.Body.Events) != pageSize || len(theirs.JSON200.Events) != pageSize || len(hand.Events) != pageSize {
		t.Fatalf("events: ours %d, oapi-codegen %d, hand-written %d", len(ours.Body.Events), len(theirs.JSON200.Events), len(hand.Events))
	}
	for i := range pageSize {
		o, h := ours.Body.Events[i], hand.Events[i]
		got := handEvent{ID: o.ID, EventType: o.EventType, EntityID: o.EntityID, TenantID: o.TenantID, Payload: o.Payload, Timestamp: o.Timestamp, Metadata: o.Metadata, Version: o.Version}
		if !reflect.DeepEqual(got, h) {
			t.Fatalf("event %d differs:\n ours %+v\n hand %+v", i, got, h)
		}
		if theirs.JSON200.Events[i].Id.String() != h.ID || theirs.JSON200.Events[i].Version != h.Version {
			t.Fatalf("event %d differs in the oapi-codegen client", i)
		}
	}
}

// BenchmarkQueryPage decodes one 1,000-event query page per op through each
// client, against the same in-process server.
func BenchmarkQueryPage(b *testing.B) {
	body := page(b)
	cl := newClients(b, pageServer(b, body).URL)
	ctx := context.Background()
	b.Run("client=apigen", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r, err := cl.ours.QueryEvents(ctx, oursParams)
			if err != nil || len(r.Body.Events) != pageSize {
				b.Fatal(err)
			}
		}
	})
	b.Run("client=oapi-codegen", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r, err := cl.oapi.QueryEventsWithResponse(ctx, oapiParams)
			if err != nil || r.JSON200 == nil || len(r.JSON200.Events) != pageSize {
				b.Fatal(err)
			}
		}
	})
	b.Run("client=nethttp", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r, err := handQuery(ctx, cl.hand, cl.base)
			if err != nil || len(r.Events) != pageSize {
				b.Fatal(err)
			}
		}
	})
}
