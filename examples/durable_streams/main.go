// Command durable_streams shows the Durable Streams client: it creates a
// JSON stream, follows it live over SSE while orders are appended, then
// writes with an idempotent producer that is stopped half way and
// restarted in the next epoch, resuming from the stream itself, so that no
// order is stored twice. It exits 0 when the reader saw every order once.
//
// With -url it runs against that server; without, it starts the protocol's
// reference server (npm's @durable-streams/server, which needs Node.js and
// npm).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/internal/dstest"
)

// Order is the message the demo writes.
type Order struct {
	N        int    `json:"n"`
	Customer string `json:"customer"`
}

func main() {
	url := flag.String("url", "", "Durable Streams server URL (default: start the reference server)")
	flag.Parse()
	if *url == "" {
		srv, err := dstest.Run(dstest.Options{LongPoll: 2 * time.Second})
		if errors.Is(err, dstest.ErrNoNode) {
			fmt.Fprintln(os.Stderr, "durable_streams:", err)
			fmt.Fprintln(os.Stderr, "or run it against a server of your own: go run ./examples/durable_streams -url http://localhost:4437")
			os.Exit(2)
		}
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Stop()
		*url = srv.URL
		fmt.Println("reference server at", srv.URL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, *url, fmt.Sprintf("demo/orders-%d", time.Now().UnixNano()), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run is the demo against the server at url, on a new stream at path.
func run(ctx context.Context, url, path string, out io.Writer) error {
	c, err := durable.New(url, durable.WithTimeout(10*time.Second))
	if err != nil {
		return err
	}
	s := c.Stream(path).WithContentType("application/json")
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "created JSON stream /%s\n", path)

	// A live reader over SSE: it sees every order as it is appended and
	// stops when the stream is closed.
	seen := make(chan []Order, 1)
	go func() {
		var orders []Order
		for o, err := range durable.ReadJSON[Order](ctx, s, durable.ReadOptions{Live: durable.LiveSSE}) {
			if err != nil {
				fmt.Fprintln(out, "reader:", err)
				break
			}
			fmt.Fprintf(out, "  live: order %d for %s\n", o.N, o.Customer)
			orders = append(orders, o)
		}
		seen <- orders
	}()

	// Plain appends.
	for i := range 3 {
		if _, err := s.AppendJSON(ctx, Order{N: i, Customer: "ada"}); err != nil {
			return err
		}
	}
	// An idempotent producer: epoch 0 writes orders 3..6 and stops.
	const total = 10
	gen1, err := s.Producer(durable.ProducerOptions{ID: "order-writer", Epoch: 0})
	if err != nil {
		return err
	}
	for i := 3; i < 7; i++ {
		if err := gen1.AppendJSON(Order{N: i, Customer: "grace"}); err != nil {
			return err
		}
	}
	if err := gen1.Detach(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "producer epoch 0 stopped after order 6")

	// The restart: same producer id, next epoch. It learns where to resume
	// from the stream itself (the last order stored), so nothing is sent
	// twice; the server fences off anything the old epoch still sends.
	next := 0
	for o, err := range durable.ReadJSON[Order](ctx, s, durable.ReadOptions{}) {
		if err != nil {
			return err
		}
		next = o.N + 1
	}
	gen2, err := s.Producer(durable.ProducerOptions{ID: "order-writer", Epoch: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "producer epoch 1 resumes at order %d\n", next)
	for i := next; i < total; i++ {
		if err := gen2.AppendJSON(Order{N: i, Customer: "linus"}); err != nil {
			return err
		}
	}
	final, err := gen2.Close(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "stream closed at offset %s\n", final)

	orders := <-seen
	if len(orders) != total {
		return fmt.Errorf("the reader saw %d orders, want %d", len(orders), total)
	}
	for i, o := range orders {
		if o.N != i {
			return fmt.Errorf("order %d is %d: lost or duplicated", i, o.N)
		}
	}
	fmt.Fprintf(out, "the live reader saw all %d orders once, in order\n", total)
	return s.Delete(ctx)
}
