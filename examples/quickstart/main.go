// Command quickstart is the README's quick start, verbatim: it ingests a
// few events into Core and reads them back. Start a Core first; the
// in-memory one of this repository will do:
//
//	go run ./cmd/allsource-server -dev
//	go run ./examples/quickstart
//
// ALLSOURCE_URL and ALLSOURCE_API_KEY point it at another Core.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/allsource-go/allsource/allsource"
)

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run ingests three events and prints the entity's events; it returns how
// many it found.
func run(ctx context.Context, out io.Writer) (int, error) {
	// Core at ALLSOURCE_URL (http://localhost:3900 when unset), with the key
	// in ALLSOURCE_API_KEY (none is needed by a server started with -dev).
	// WithTenant puts writes and reads in one tenant: without it Core writes
	// to "default" and reads the key's tenant ("dev-tenant" in dev mode).
	core, err := allsource.NewCoreClient(os.Getenv("ALLSOURCE_URL"), os.Getenv("ALLSOURCE_API_KEY"),
		allsource.WithTenant("quickstart"), allsource.WithMaxRetries(3), allsource.WithTimeout(10*time.Second))
	if err != nil {
		return 0, err
	}

	// Ingest: arguments Core would refuse are rejected before any request,
	// and a plain append is never duplicated by a retry.
	for i, total := range []int{4999, 1250, 800} {
		_, err := core.Ingest(ctx, allsource.NewEvent{
			Type: "order.placed", EntityID: "customer-ada",
			Payload: map[string]any{"order": i + 1, "total_cents": total},
		})
		if err != nil {
			return 0, fmt.Errorf("ingest: %w (is a Core running? go run ./cmd/allsource-server -dev)", err)
		}
	}

	// Every event of the entity, page by page, as an iterator.
	n := 0
	for e, err := range core.EntityEvents(ctx, "customer-ada") {
		if err != nil {
			return n, err
		}
		p, err := allsource.DecodePayload[struct {
			Order      int `json:"order"`
			TotalCents int `json:"total_cents"`
		}](&e)
		if err != nil {
			return n, err
		}
		fmt.Fprintf(out, "v%d %s order %d: %d cents\n", e.Version, e.EventType, p.Order, p.TotalCents)
		n++
	}
	return n, nil
}
