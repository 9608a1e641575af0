package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/internal/pgtest"
)

func TestSQLModePartitionsCommitTheirOwnPositions(t *testing.T) {
	pg := pgtest.Start(t)
	_, db := pg.NewDB(t)
	if _, err := db.Exec(aggTable); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.ingest(2000, 50, "test.created")
	cfg := sqlConfig("sqlparts", db)
	cfg.Partition.Count = 3
	hs, err := StartSQLPartitions(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		waitCaughtUp(t, h)
	}
	f.ingest(500, 50, "test.updated") // live
	f.waitTable(db)
	for i, h := range hs {
		if st := h.Stats(); st.Applied == 0 || st.Applied >= 2500 {
			t.Errorf("partition %d applied %d of 2500 events", i, st.Applied)
		}
		stop(t, h)
	}
	// Each partition committed its own position, and acknowledged it.
	for i := range 3 {
		consumer := Partition{Index: i, Count: 3}.consumer("sqlparts")
		var pos int64
		if err := db.QueryRow(`SELECT position FROM allsource_projection_positions WHERE consumer = $1`, consumer).Scan(&pos); err != nil {
			t.Fatalf("position of %s: %v", consumer, err)
		}
		if pos != 2500 || f.cursor(consumer) != 2500 {
			t.Errorf("%s: committed position %d, cursor %d; want 2500", consumer, pos, f.cursor(consumer))
		}
	}

	// A process owning partition 2 alone resumes it.
	f.ingest(300, 50, "test.updated")
	pc := cfg
	pc.Partition.Index = 2
	h, err := StartSQL(context.Background(), f.c, pc)
	if err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, h)
	stop(t, h)
	if c := f.cursor(pc.Partition.consumer("sqlparts")); c != 2800 {
		t.Errorf("partition 2 alone: cursor %d, want 2800", c)
	}
	hs, err = StartSQLPartitions(context.Background(), f.c, cfg, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		waitCaughtUp(t, h)
	}
	f.waitTable(db)
	for _, h := range hs {
		stop(t, h)
	}

	// Another number of partitions, or none, is refused.
	cfg.Partition.Count = 2
	if _, err := StartSQLPartitions(context.Background(), f.c, cfg); !errors.Is(err, ErrPartitionsChanged) {
		t.Fatalf("2 partitions after 3 = %v, want ErrPartitionsChanged", err)
	}
	cfg.Partition = Partition{}
	if _, err := StartSQL(context.Background(), f.c, cfg); !errors.Is(err, ErrPartitionsChanged) {
		t.Fatalf("unpartitioned after 3 partitions = %v, want ErrPartitionsChanged", err)
	}
	// A projection folded whole refuses partitions.
	whole := sqlConfig("sqlwhole", db)
	h, err = StartSQL(context.Background(), f.c, whole)
	if err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, h)
	stop(t, h)
	whole.Partition.Count = 2
	if _, err := StartSQLPartitions(context.Background(), f.c, whole); !errors.Is(err, ErrPartitionsChanged) {
		t.Fatalf("partitions over a whole projection = %v, want ErrPartitionsChanged", err)
	}
}

// seenTable records each event applied once: a second apply of an event
// fails on the primary key.
const seenTable = `CREATE TABLE IF NOT EXISTS seen (event_id text PRIMARY KEY, n bigint NOT NULL)`

func countSeen(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM seen`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSQLModeSkipsPoisonEventsInTheSameTransaction(t *testing.T) {
	for _, named := range []bool{true, false} {
		t.Run(fmt.Sprintf("error names the event=%v", named), func(t *testing.T) {
			pg := pgtest.Start(t)
			_, db := pg.NewDB(t)
			if _, err := db.Exec(seenTable); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t)
			f.ingest(1000, 20, "test.created")
			var fixed atomic.Bool
			poison := func(n int64) bool { return n%97 == 5 && !fixed.Load() }
			cfg := sqlConfig("sqlskip", db)
			cfg.Poison = PoisonPolicy{Retries: 1, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Action: PoisonSkip}
			cfg.Apply = func(ctx context.Context, tx *sql.Tx, events []Event) error {
				for _, ev := range events {
					p, err := Decode[payload](ev)
					if err != nil {
						return err
					}
					if poison(p.N) {
						if named {
							return &ReducerError{Event: ev, Err: fmt.Errorf("poison %d", p.N)}
						}
						return fmt.Errorf("poison somewhere")
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO seen (event_id, n) VALUES ($1, $2)`, ev.ID, p.N); err != nil {
						return err
					}
				}
				return nil
			}
			h, err := StartSQL(context.Background(), f.c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Stop(context.Background())
			waitCaughtUp(t, h)
			f.ingest(500, 20, "test.updated") // live
			var want []int64
			for n := int64(1); n <= 1500; n++ {
				if poison(n) {
					want = append(want, n)
				}
			}
			eventually(t, func() bool { return countSeen(t, db) == 1500-len(want) && h.Stats().Position == 1500 },
				func() string { return fmt.Sprintf("%d rows, position %d", countSeen(t, db), h.Stats().Position) })
			if st := h.Stats(); st.Skipped != int64(len(want)) {
				t.Errorf("Stats().Skipped = %d, want %d", st.Skipped, len(want))
			}
			// The dead letters are in the table, committed with the
			// position past them.
			dead, err := NewSQLDeadLetters(db, "").List(context.Background(), "sqlskip")
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, d := range dead {
				p, err := Decode[payload](d.Event)
				if err != nil {
					t.Fatal(err)
				}
				if d.Event.Position == 0 && p.N <= 1000 || d.Error == "" {
					t.Errorf("dead letter %+v lacks its position or error", d)
				}
				got = append(got, p.N)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("dead letters %v, want %v", got, want)
			}

			// Fixed: a replay applies them and removes them, in one
			// transaction.
			fixed.Store(true)
			n, err := h.ReplayDeadLetters(context.Background())
			if err != nil || n != len(want) {
				t.Fatalf("ReplayDeadLetters = %d, %v; want %d", n, err, len(want))
			}
			if dead, _ := NewSQLDeadLetters(db, "").List(context.Background(), "sqlskip"); len(dead) != 0 || countSeen(t, db) != 1500 {
				t.Fatalf("after the replay: %d dead letters, %d rows; want 0 and 1500", len(dead), countSeen(t, db))
			}
		})
	}
}
