// Command postgres_readmodel keeps a read model of order totals per
// customer in a PostgreSQL table with the projection worker's database
// mode: each transaction upserts the customers its events touched and
// commits the consumer's position with them, so the table holds every
// event exactly once, across restarts and crashes.
//
// It needs a PostgreSQL database, named by -dsn or DATABASE_URL:
//
//	go run ./examples/postgres_readmodel -dsn postgres://user:pass@localhost:5432/db
//
// With ALLSOURCE_URL (and ALLSOURCE_API_KEY) set it reads events from that
// Core; otherwise it starts the embedded in-memory Core and writes a few
// orders into it (a new Core each run: give each run a new database, since
// the table already holds positions 1 to 5 of the last one).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver for database/sql

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/projection"
)

// order is the payload of order.placed.
type order struct {
	Customer string `json:"customer"`
	Cents    int64  `json:"cents"`
}

const schema = `CREATE TABLE IF NOT EXISTS customer_totals (
	customer text PRIMARY KEY,
	orders bigint NOT NULL,
	cents bigint NOT NULL
)`

// apply writes one transaction's events: one upsert per order. A busy read
// model would sum per customer first and upsert each customer once.
func apply(ctx context.Context, tx *sql.Tx, ev projection.Event) error {
	o, err := projection.Decode[order](ev)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO customer_totals AS t (customer, orders, cents) VALUES ($1, 1, $2)
ON CONFLICT (customer) DO UPDATE SET orders = t.orders + 1, cents = t.cents + EXCLUDED.cents`, o.Customer, o.Cents)
	return err
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "postgres_readmodel:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("postgres_readmodel", flag.ContinueOnError)
	dsn := fs.String("dsn", os.Getenv("DATABASE_URL"), "PostgreSQL connection string (default: $DATABASE_URL)")
	consumer := fs.String("consumer", "customer-totals", "durable consumer name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("no database: set -dsn or DATABASE_URL")
	}
	ctx := context.Background()
	db, err := sql.Open("pgx", *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create table: %w", err)
	}

	c, closeServer, err := connect(ctx, out)
	if err != nil {
		return err
	}
	defer closeServer()

	cfg := projection.SQLConfig{
		Name:       *consumer,
		EventTypes: []string{"order.placed"},
		DB:         db,
		Apply:      projection.EachEvent(apply),
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	h, err := projection.StartSQL(ctx, c, cfg)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.WaitCaughtUp(wctx); err != nil {
		return err
	}
	st := h.Stats()
	fmt.Fprintf(out, "caught up: %d events applied, committed up to position %d\n", st.Applied, st.Position)
	stopCtx, cancelStop := context.WithTimeout(ctx, 10*time.Second)
	defer cancelStop()
	if err := h.Stop(stopCtx); err != nil {
		return err
	}

	rows, err := db.QueryContext(ctx, `SELECT customer, orders, cents FROM customer_totals ORDER BY customer`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var customer string
		var orders, cents int64
		if err := rows.Scan(&customer, &orders, &cents); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-8s %3d orders %8.2f\n", customer, orders, float64(cents)/100)
	}
	return rows.Err()
}

// connect returns a Core client: for ALLSOURCE_URL when it is set, else
// for an embedded in-memory Core holding a few orders.
func connect(ctx context.Context, out io.Writer) (allsource.CoreClient, func(), error) {
	if os.Getenv(allsource.EnvURL) != "" {
		c, err := allsource.NewCoreClientFromEnv()
		return c, func() {}, err
	}
	const key = "demo-key"
	srv := coretest.NewServer(coretest.WithAPIKeys(key))
	fmt.Fprintln(out, "using the embedded Core at", srv.URL)
	c, err := allsource.NewCoreClient(srv.URL, key)
	if err != nil {
		_ = srv.Close()
		return c, nil, err
	}
	var orders []allsource.NewEvent
	for i, o := range []order{{"ada", 1250}, {"grace", 990}, {"ada", 4000}, {"linus", 300}, {"grace", 10}} {
		orders = append(orders, allsource.NewEvent{Type: "order.placed", EntityID: fmt.Sprintf("order-%d", i+1), Payload: o})
	}
	if _, err := c.IngestBatch(ctx, orders); err != nil {
		_ = srv.Close()
		return c, nil, err
	}
	return c, func() { _ = srv.Close() }, nil
}
