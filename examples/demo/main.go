// Command demo is what `make demo` runs: it starts the embedded in-memory
// AllSource server, ingests a day of orders with the generated clients,
// folds one order with query-and-fold, and runs a projection worker that
// keeps revenue per customer, stopping and restarting it from its snapshot
// half way. It exits 0 when every figure agrees.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/projection"
)

// Revenue is the worker's state: cents per customer.
type Revenue map[string]int64

type placed struct {
	Customer   string `json:"customer"`
	TotalCents int64  `json:"total_cents"`
}

// revenue folds one order event into revenue per customer. The same
// function serves allsource.FoldEvents (a fold from scratch over a query)
// and the projection worker's reducer.
func revenue(r Revenue, e *allsource.Event) (Revenue, error) {
	if e.EventType != "order.placed" {
		return r, nil
	}
	p, err := allsource.DecodePayload[placed](e)
	if err != nil {
		return r, err
	}
	r[p.Customer] += p.TotalCents
	return r, nil
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	const key = "ask_demo-key"
	srv := coretest.NewServer(coretest.WithAPIKeys(key))
	defer srv.Close()
	fmt.Println("embedded AllSource: Core at", srv.URL, "and the Query Service at", srv.QueryURL())

	core, err := allsource.NewCoreClient(srv.URL, key)
	if err != nil {
		return err
	}
	query, err := allsource.NewQueryClient(srv.QueryURL(), key)
	if err != nil {
		return err
	}

	customers := []string{"ada", "grace", "linus", "barbara"}
	want := Revenue{}
	ingest := func(from, to int) error {
		var batch []allsource.NewEvent
		for i := from; i < to; i++ {
			c := customers[i%len(customers)]
			cents := int64(1000 + 37*i)
			want[c] += cents
			id := fmt.Sprintf("order-%04d", i)
			batch = append(batch,
				allsource.NewEvent{Type: "order.placed", EntityID: id, Payload: placed{Customer: c, TotalCents: cents}},
				allsource.NewEvent{Type: "order.shipped", EntityID: id, Payload: map[string]string{"carrier": "post"}},
			)
		}
		_, err := core.IngestBatch(ctx, batch)
		return err
	}
	if err := ingest(0, 500); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	fmt.Println("ingested 1000 events for 500 orders")

	// Query-and-fold one order through the Query Service.
	type status struct{ Placed, Shipped bool }
	st, n, err := allsource.FoldEvents(ctx, query, allsource.Query{EntityID: "order-0007"}, status{},
		allsource.FolderFunc[status](func(s status, e *allsource.Event) (status, error) {
			s.Placed = s.Placed || e.EventType == "order.placed"
			s.Shipped = s.Shipped || e.EventType == "order.shipped"
			return s, nil
		}))
	if err != nil {
		return fmt.Errorf("fold: %w", err)
	}
	fmt.Printf("order-0007 folded from %d events: placed=%v shipped=%v\n", n, st.Placed, st.Shipped)

	// A projection worker: revenue per customer, snapshotted to a file.
	dir, err := os.MkdirTemp("", "allsource-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := projection.Config[Revenue]{
		Name:             "revenue-by-customer",
		EventTypes:       []string{"order.placed"},
		Reducer:          func(r Revenue, ev projection.Event) (Revenue, error) { return revenue(r, &ev.Event) },
		Initial:          func() Revenue { return Revenue{} },
		Store:            projection.NewFileStore(dir),
		CheckpointEvents: 100,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	h, err := projection.Start(ctx, core, cfg)
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := h.WaitCaughtUp(ctx); err != nil {
		return fmt.Errorf("worker catch-up: %w", err)
	}
	if err := ingest(500, 600); err != nil { // live events
		return err
	}
	if err := waitFor(ctx, h, want); err != nil {
		return err
	}
	if err := h.Stop(ctx); err != nil {
		return fmt.Errorf("stop worker: %w", err)
	}
	fmt.Printf("worker caught up, applied %d events (%d live), then stopped\n", h.Stats().Applied, h.Stats().Live)

	if err := ingest(600, 700); err != nil { // while the worker is down
		return err
	}
	h, err = projection.Start(ctx, core, cfg)
	if err != nil {
		return fmt.Errorf("restart worker: %w", err)
	}
	defer h.Stop(context.Background())
	if err := waitFor(ctx, h, want); err != nil {
		return err
	}
	stats := h.Stats()
	fmt.Printf("restarted from its snapshot at position %d: replayed %d events (the 100 placed while it was down), %d duplicates skipped\n",
		stats.Position, stats.Replayed, stats.Duplicates)
	got, err := h.State()
	if err != nil {
		return err
	}
	scratch, n, err := allsource.FoldEvents(ctx, core, allsource.Query{EventType: "order.placed"}, Revenue{}, allsource.FolderFunc[Revenue](revenue))
	if err != nil {
		return fmt.Errorf("fold from scratch: %w", err)
	}
	if !equal(scratch, got) {
		return fmt.Errorf("worker state %v differs from a fold from scratch %v", got, scratch)
	}
	fmt.Printf("a fold from scratch over %d order.placed events with the same function agrees\n", n)
	for _, c := range customers {
		fmt.Printf("  %-8s %8.2f\n", c, float64(got[c])/100)
	}
	fmt.Println("demo: every figure matches a fold from scratch")
	return nil
}

// waitFor waits until the worker's state equals want.
func waitFor(ctx context.Context, h *projection.Handle[Revenue], want Revenue) error {
	for {
		got, err := h.State()
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		if equal(got, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("worker did not reach the expected state in time")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func equal(a, b Revenue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
