// Command fold folds an order's lifecycle into its total with the Query
// Service's query-and-fold. It uses ALLSOURCE_URL, ALLSOURCE_QUERY_URL and
// ALLSOURCE_API_KEY when set, and an embedded in-memory server otherwise.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
)

// Order is the state the events fold into.
type Order struct {
	Status string
	Items  int
	Total  float64
}

// foldOrder applies one event to an order.
func foldOrder(o Order, e *allsource.Event) (Order, error) {
	switch e.EventType {
	case "order.created":
		o.Status = "created"
	case "order.item_added":
		item, err := allsource.DecodePayload[struct {
			Price float64 `json:"price"`
			Qty   int     `json:"qty"`
		}](e)
		if err != nil {
			return o, err
		}
		o.Items += item.Qty
		o.Total += item.Price * float64(item.Qty)
	case "order.completed":
		o.Status = "completed"
	}
	return o, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	core, query, stop, err := connect()
	if err != nil {
		return err
	}
	defer stop()

	_, err = core.IngestBatch(ctx, []allsource.NewEvent{
		{Type: "order.created", EntityID: "order-42", Payload: map[string]any{"customer": "ada"}},
		{Type: "order.item_added", EntityID: "order-42", Payload: map[string]any{"sku": "book", "price": 29.99, "qty": 1}},
		{Type: "order.item_added", EntityID: "order-42", Payload: map[string]any{"sku": "pen", "price": 2.50, "qty": 4}},
		{Type: "order.completed", EntityID: "order-42", Payload: map[string]any{}},
	})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	order, n, err := allsource.FoldEvents(ctx, query, allsource.Query{EntityID: "order-42"}, Order{}, allsource.FolderFunc[Order](foldOrder))
	if err != nil {
		return fmt.Errorf("fold: %w", err)
	}
	fmt.Printf("order-42 from %d events: %s, %d items, total %.2f\n", n, order.Status, order.Items, order.Total)

	_, n, err = allsource.FoldEvents(ctx, query, allsource.Query{EntityID: "order-404"}, Order{}, allsource.FolderFunc[Order](foldOrder))
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Println("order-404: no events (not an empty order)")
	}
	return nil
}

func connect() (allsource.CoreClient, allsource.QueryClient, func(), error) {
	if os.Getenv(allsource.EnvURL) != "" {
		c, err := allsource.NewCoreClientFromEnv()
		if err != nil {
			return c, allsource.QueryClient{}, nil, err
		}
		q, err := allsource.NewQueryClientFromEnv()
		return c, q, func() {}, err
	}
	const key = "ask_example-key" // the embedded server accepts this key
	srv := coretest.NewServer(coretest.WithAPIKeys(key))
	c, err := allsource.NewCoreClient(srv.URL, key)
	if err != nil {
		srv.Close()
		return c, allsource.QueryClient{}, nil, err
	}
	q, err := allsource.NewQueryClient(srv.QueryURL(), key)
	return c, q, func() { srv.Close() }, err
}
