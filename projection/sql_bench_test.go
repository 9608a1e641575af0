package projection

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/allsource-go/allsource/internal/pgtest"
)

// upsertCounts is the database-mode benchmark's Apply: events and their
// prices summed per entity in Go, then one upsert row per entity touched
// in the transaction, up to 1000 rows a statement.
func upsertCounts(ctx context.Context, tx *sql.Tx, events []Event) error {
	type acc struct{ n, sum int64 }
	per := make(map[string]*acc, 1024)
	order := make([]string, 0, 1024)
	for i := range events {
		ev := &events[i]
		a := per[ev.EntityID]
		if a == nil {
			a = &acc{}
			per[ev.EntityID] = a
			order = append(order, ev.EntityID)
		}
		a.n++
		a.sum += ev.Version
	}
	var q strings.Builder
	for start := 0; start < len(order); start += 1000 {
		part := order[start:min(start+1000, len(order))]
		q.Reset()
		q.WriteString(`INSERT INTO counts AS c (entity, events, total) VALUES `)
		args := make([]any, 0, 3*len(part))
		for i, id := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			n := 3 * i
			q.WriteString("($" + strconv.Itoa(n+1) + ",$" + strconv.Itoa(n+2) + "::bigint,$" + strconv.Itoa(n+3) + "::bigint)")
			args = append(args, id, per[id].n, per[id].sum)
		}
		q.WriteString(` ON CONFLICT (entity) DO UPDATE SET events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total`)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSQLCatchUp measures a database-mode worker's catch-up into a
// real PostgreSQL table: 500,000 events over 10,000 entities, an upsert per
// entity touched in each transaction, position and versions committed with
// it, for several transaction sizes. Like BenchmarkCatchUpEntities it
// feeds the worker a recorded replay from memory, so the figure is the
// worker's and the database's, not the event server's.
func BenchmarkSQLCatchUp(b *testing.B) {
	const n, entities = 500_000, 10_000
	pg := pgtest.Start(b)
	rec := recordReplay(n, entities)
	for _, txEvents := range []int{1000, 5000, 20_000} {
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
