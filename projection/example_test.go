package projection_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/projection"
)

// A read model of order totals by customer, kept by a worker that survives
// restarts through a file snapshot.
func ExampleStart() {
	srv := coretest.NewServer(coretest.WithAPIKeys("key"))
	defer srv.Close()
	core, err := allsource.NewCoreClient(srv.URL, "key")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []allsource.NewEvent{
		{Type: "order.placed", EntityID: "order-1", Payload: map[string]any{"customer": "ada", "total": 30}},
		{Type: "order.placed", EntityID: "order-2", Payload: map[string]any{"customer": "bob", "total": 12}},
		{Type: "order.placed", EntityID: "order-3", Payload: map[string]any{"customer": "ada", "total": 5}},
	} {
		if _, err := core.Ingest(ctx, e); err != nil {
			log.Fatal(err)
		}
	}

	dir, err := os.MkdirTemp("", "orders")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	type placed struct {
		Customer string `json:"customer"`
		Total    int    `json:"total"`
	}
	h, err := projection.Start(ctx, core, projection.Config[map[string]int]{
		Name:       "order-totals",
		EventTypes: []string{"order.*"},
		Initial:    func() map[string]int { return map[string]int{} },
		Reducer: func(totals map[string]int, ev projection.Event) (map[string]int, error) {
			p, err := projection.Decode[placed](ev)
			if err != nil {
				return totals, err
			}
			totals[p.Customer] += p.Total
			return totals, nil
		},
		Store: projection.NewFileStore(dir),
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.WaitCaughtUp(ctx); err != nil {
		log.Fatal(err)
	}
	h.Read(func(totals map[string]int) {
		fmt.Println("ada:", totals["ada"], "bob:", totals["bob"])
	})
	if err := h.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("checkpointed at position", h.Stats().Acked)
	// Output:
	// ada: 35 bob: 12
	// checkpointed at position 3
}
