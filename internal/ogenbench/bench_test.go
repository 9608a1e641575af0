package ogenbench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/internal/ogenbench/ogcore"
	"github.com/allsource-go/allsource/runtime"
)

const (
	pageSize = 1000
	entity   = "order-book"
	apiKey   = "ask_bench-key"
)

// page ingests pageSize events into an embedded Core and returns the raw
// body of one query page holding all of them: the bytes both clients
// decode. The events are those of internal/benchcmp's BenchmarkQueryPage.
func page(tb testing.TB) []byte {
	tb.Helper()
	srv := coretest.NewServer(coretest.WithAPIKeys(apiKey))
	defer srv.Close()
	c, err := allsource.NewCoreClient(srv.URL, apiKey)
	if err != nil {
		tb.Fatal(err)
	}
	batch := make([]allsource.NewEvent, 0, pageSize)
	for i := range pageSize {
		batch = append(batch, allsource.NewEvent{
			Type:     "order.line_added",
			EntityID: entity,
			Payload:  map[string]any{"sku": fmt.Sprintf("SKU-%05d", i), "qty": i%7 + 1, "price_cents": 199 + i, "gift": i%3 == 0},
			Metadata: map[string]any{"correlation_id": fmt.Sprintf("c-%d", i/10), "source": "bench"},
		})
	}
	if _, err := c.IngestBatch(context.Background(), batch); err != nil {
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

// pageServer serves body for every query, so that the server side costs
// the same for both clients.
func pageServer(tb testing.TB, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// bearer is the ogen client's security source: the bearer token only.
type bearer struct{}

func (bearer) BearerAuth(context.Context, ogcore.OperationName) (ogcore.BearerAuth, error) {
	return ogcore.BearerAuth{Token: apiKey}, nil
}

func (bearer) ApiKeyAuth(context.Context, ogcore.OperationName) (ogcore.ApiKeyAuth, error) {
	return ogcore.ApiKeyAuth{}, ogenerrors.ErrSkipClientSecurity
}

type clients struct {
	ours *core.Client
	ogen *ogcore.Client
}

func newClients(tb testing.TB, base string) clients {
	tb.Helper()
	ours, err := core.NewClient(base, runtime.WithBearerToken(apiKey))
	if err != nil {
		tb.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	og, err := ogcore.NewClient(base, bearer{}, ogcore.WithClient(&http.Client{Transport: tr}))
	if err != nil {
		tb.Fatal(err)
	}
	return clients{ours: ours, ogen: og}
}

var (
	oursParams = core.QueryEventsParams{EntityID: runtime.Some(common.EntityID(entity)), Limit: runtime.Some[int64](pageSize)}
	ogenParams = ogcore.QueryEventsParams{EntityID: ogcore.NewOptEntityId(entity), Limit: ogcore.NewOptInt64(pageSize)}
)

// ogenEvents returns the events of an ogen client's response.
func ogenEvents(tb testing.TB, res ogcore.QueryEventsRes) []ogcore.Event {
	r, ok := res.(*ogcore.QueryEventsResponseHeaders)
	if !ok {
		tb.Fatalf("ogen client: response %T", res)
	}
	return r.Response.Events
}

// TestClientsDecodeTheSamePage makes sure the benchmark compares like with
// like: both clients get every event, field for field.
func TestClientsDecodeTheSamePage(t *testing.T) {
	body := page(t)
	cl := newClients(t, pageServer(t, body).URL)
	ctx := context.Background()
	ours, err := cl.ours.QueryEvents(ctx, oursParams)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.ogen.QueryEvents(ctx, ogenParams)
	if err != nil {
		t.Fatalf("ogen client: %v", err)
	}
	theirs := ogenEvents(t, res)
	if len(ours.Body.Events) != pageSize || len(theirs) != pageSize {
		t.Fatalf("events: ours %d, ogen %d", len(ours.Body.Events), len(theirs))
	}
	for i, e := range ours.Body.Events {
		o := theirs[i]
		if e.ID != o.ID.String() || e.EventType != o.EventType || e.EntityID != o.EntityID || e.TenantID != o.TenantID ||
			string(e.Payload) != string(o.Payload) || string(e.Metadata) != string(o.Metadata) ||
			!e.Timestamp.Equal(o.Timestamp) || e.Version != o.Version {
			t.Fatalf("event %d differs:\n ours %+v\n ogen %+v", i, e, o)
		}
	}
}

// BenchmarkQueryPage fetches and decodes one page of 1,000 events with the
// generated client and with ogen's, side by side.
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
	b.Run("client=ogen", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			res, err := cl.ogen.QueryEvents(ctx, ogenParams)
			if err != nil || len(ogenEvents(b, res)) != pageSize {
				b.Fatal(err)
			}
		}
	})
}
