package projection

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/allsource-go/allsource/internal/pgtest"
)

// upsertCounts is the database-mode benchmark's Apply: events and their
// versions summed per entity in Go, then one upsert of every entity the
// transaction touched, the rows passed as arrays (pgx takes Go slices as
// array parameters).
func upsertCounts(ctx context.Context, tx *sql.Tx, events []Event) error {
	index := make(map[string]int, 1024)
	var ids []string
	var ns, sums []int64
	for i := range events {
		ev := &events[i]
		k, ok := index[ev.EntityID]
		if !ok {
			k = len(ids)
			index[ev.EntityID] = k
			ids, ns, sums = append(ids, ev.EntityID), append(ns, 0), append(sums, 0)
		}
		ns[k]++
		sums[k] += ev.Version
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO counts AS c (entity, events, total) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
ON CONFLICT (entity) DO UPDATE SET events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total`, ids, ns, sums)
	return err
}

// BenchmarkSQLCatchUp measures a database-mode worker's catch-up into a
// real PostgreSQL table: 500,000 events over 10,000 entities, an upsert per
// entity touched in each transaction, position and versions committed with
// it, for transactions of 5,000, 20,000 and 100,000 events: the server's
// work follows the rows written (one per entity a transaction touches,
// and its version), so larger transactions write fewer rows per event. Like BenchmarkCatchUpEntities it
// feeds the worker a recorded replay from memory, so the figure is the
// worker's and the database's, not the event server's.
func BenchmarkSQLCatchUp(b *testing.B) {
	const n, entities = 500_000, 10_000
	pg := pgtest.Start(b)
	rec := recordReplay(n, entities)
	for _, txEvents := range []int{5000, 20_000, 100_000} {
		b.Run(fmt.Sprintf("tx=%d", txEvents), func(b *testing.B) {
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				_, db := pg.NewDB(b)
				if _, err := db.Exec(`CREATE TABLE counts (entity text PRIMARY KEY, events bigint NOT NULL, total bigint NOT NULL)`); err != nil {
					b.Fatal(err)
				}
				cfg := SQLConfig{Name: "catchup", DB: db, Apply: upsertCounts, TxEvents: txEvents, Logger: quiet}
				b.StartTimer()
				h, _, err := startSQL(context.Background(), &memoryCore{rec: rec}, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := h.WaitCaughtUp(context.Background()); err != nil {
					b.Fatal(err)
				}
				// Caught up means committed: the last transaction commits
				// at replay_complete.
				b.StopTimer()
				if err := h.Stop(context.Background()); err != nil {
					b.Fatal(err)
				}
				var events int64
				if err := db.QueryRow(`SELECT sum(events) FROM counts`).Scan(&events); err != nil || events != n {
					b.Fatalf("table counts %d events, %v; want %d", events, err, n)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(i)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(txEvents), "events/tx")
			b.ReportMetric(0, "ns/op")
		})
	}
}
