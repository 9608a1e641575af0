// Command quickstart ingests a few events and reads back an entity's last
// ten events. It talks to the Core named by ALLSOURCE_URL (with
// ALLSOURCE_API_KEY), or, when that is unset, to an embedded in-memory
// server it starts itself.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	c, stop, err := connect()
	if err != nil {
		return err
	}
	defer stop()

	for i := 1; i <= 12; i++ {
		res, err := c.Ingest(ctx, allsource.NewEvent{
			Type:     "sensor.reading",
			EntityID: "sensor-7",
			Payload:  map[string]any{"celsius": 20 + float64(i)/4},
			Metadata: map[string]any{"source": "quickstart"},
		})
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if i == 1 {
			fmt.Printf("first event %s stored at version %d\n", res.EventID, res.Version)
		}
	}

	// The entity's last ten events, newest first.
	page, err := c.Query(ctx, allsource.Query{EntityID: "sensor-7", Order: allsource.Descending, Limit: 10})
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	fmt.Printf("%d of %d events of sensor-7:\n", page.Count, page.TotalCount)
	for _, e := range page.Events {
		r, err := allsource.DecodePayload[struct {
			Celsius float64 `json:"celsius"`
		}](&e)
		if err != nil {
			return err
		}
		fmt.Printf("  v%-3d %s  %.2f °C\n", e.Version, e.Timestamp.Format(time.RFC3339), r.Celsius)
	}
	return nil
}

// connect returns a Core client for ALLSOURCE_URL, or for an embedded
// server when it is unset.
func connect() (allsource.CoreClient, func(), error) {
	if os.Getenv(allsource.EnvURL) != "" {
		c, err := allsource.NewCoreClientFromEnv()
		return c, func() {}, err
	}
	const key = "ask_example-key" // the embedded server accepts this key
	srv := coretest.NewServer(coretest.WithAPIKeys(key))
	c, err := allsource.NewCoreClient(srv.URL, key)
	return c, func() { srv.Close() }, err
}
