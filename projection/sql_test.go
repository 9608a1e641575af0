package projection

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/internal/pgtest"
	"github.com/allsource-go/allsource/runtime"
)

// aggTable is the test read model in PostgreSQL: aggReducer's state as
// rows, written by upserts that count an event applied twice (dups) or
// skipped (gaps).
const aggTable = `CREATE TABLE IF NOT EXISTS agg (
	entity text PRIMARY KEY,
	count bigint NOT NULL,
	last bigint NOT NULL,
	sum bigint NOT NULL,
	dups bigint NOT NULL DEFAULT 0,
	gaps bigint NOT NULL DEFAULT 0
)`

// applyAgg writes one event into agg.
func applyAgg(ctx context.Context, tx *sql.Tx, ev Event) error {
	p, err := Decode[payload](ev)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO agg AS a (entity, count, last, sum, gaps) VALUES ($1, 1, $2::bigint, $3::bigint, $2::bigint - 1)
ON CONFLICT (entity) DO UPDATE SET
	count = a.count + (EXCLUDED.last > a.last)::int,
	dups = a.dups + (EXCLUDED.last <= a.last)::int,
	gaps = a.gaps + GREATEST(EXCLUDED.last - a.last - 1, 0),
	sum = a.sum + CASE WHEN EXCLUDED.last > a.last THEN EXCLUDED.sum ELSE 0 END,
	last = GREATEST(a.last, EXCLUDED.last)`, ev.EntityID, ev.Version, p.N)
	return err
}

func readAgg(t testing.TB, db *sql.DB) aggState {
	t.Helper()
	rows, err := db.Query(`SELECT entity, count, last, sum, dups, gaps FROM agg`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := aggState{}
	for rows.Next() {
		var k string
		a := &agg{}
		if err := rows.Scan(&k, &a.Count, &a.Last, &a.Sum, &a.Dups, &a.Gaps); err != nil {
			t.Fatal(err)
		}
		out[k] = a
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sqlConfig(name string, db *sql.DB) SQLConfig {
	return SQLConfig{
		Name: name, EventTypes: []string{"test.*"}, DB: db, Apply: EachEvent(applyAgg),
		TxEvents: 100, TxPeriod: 20 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, StallTimeout: 500 * time.Millisecond,
		Logger: quiet,
	}
}

// waitTable waits until the table equals the truth, failing at once on an
// event applied twice.
func (f *fixture) waitTable(db *sql.DB) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		lost, twice, diff := f.truth.compare(readAgg(f.t, db))
		if diff == "" {
			return
		}
		if twice > 0 {
			f.t.Fatalf("events applied twice: %d (%s)", twice, diff)
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("table never matched the fold from scratch: %s (lost %d)", diff, lost)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSQLModeExactlyOnceAcrossStopAndCrash(t *testing.T) {
	pg := pgtest.Start(t)
	_, db := pg.NewDB(t)
	if _, err := db.Exec(aggTable); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.ingest(1000, 20, "test.created")
	cfg := sqlConfig("sql", db)
	h, err := StartSQL(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, h)
	f.ingest(500, 20, "test.updated") // live
	f.waitTable(db)
	stop(t, h)
	if c := f.cursor("sql"); c != 1500 {
		t.Fatalf("cursor %d after Stop, want 1500", c)
	}

	f.ingest(300, 25, "test.updated") // while stopped
	h, err = StartSQL(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.WaitCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Replayed != 300 || st.Applied != 300 {
		t.Fatalf("restart replayed %d, applied %d; want the 300 written while stopped", st.Replayed, st.Applied)
	}
	f.waitTable(db)

	// A crash in the middle of live traffic: no final commit.
	for i := range 6 {
		f.ingest(100, 25, "test.updated")
		if i == 3 {
			h.w.cancel()
			<-h.Done()
		}
	}
	h, err = StartSQL(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(context.Background())
	f.waitTable(db)
}

func TestSQLModeApplyErrorRollsBackAndStops(t *testing.T) {
	pg := pgtest.Start(t)
	_, db := pg.NewDB(t)
	if _, err := db.Exec(aggTable); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.ingest(300, 5, "test.created")
	cfg := sqlConfig("sql-fail", db)
	tries := 0
	cfg.Apply = EachEvent(func(ctx context.Context, tx *sql.Tx, ev Event) error {
		if err := applyAgg(ctx, tx, ev); err != nil {
			return err
		}
		if ev.Position == 150 {
			tries++
			return fmt.Errorf("bad event")
		}
		return nil
	})
	cfg.Poison = PoisonPolicy{Retries: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	h, err := StartSQL(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("worker still running after Apply kept failing")
	}
	var re *ReducerError
	if err := h.Err(); !errors.As(err, &re) || re.Event.Position != 150 || tries != 3 {
		t.Fatalf("Err() = %v after %d tries; want a ReducerError at 150 after 3", err, tries)
	}
	// Nothing of the failed transaction was committed: the table holds a
	// prefix of the events, each once, up to the committed position.
	var pos int64
	if err := db.QueryRow(`SELECT position FROM allsource_projection_positions WHERE consumer = 'sql-fail'`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, a := range readAgg(t, db) {
		if a.Dups != 0 || a.Gaps != 0 {
			t.Fatalf("table holds duplicates or gaps: %+v", a)
		}
		total += a.Count
	}
	if pos >= 150 || total != pos {
		t.Fatalf("committed position %d with %d events in the table; want the same, below 150", pos, total)
	}
	if c := f.cursor("sql-fail"); c > pos {
		t.Fatalf("cursor %d ahead of the committed position %d", c, pos)
	}
}

// The child process of TestSQLModeKillSoak: a database-mode worker until
// it is killed.
const sqlChildEnv = "PROJECTION_SQL_KILL_CHILD"

func runSQLChild(spec string) int {
	url, rest, _ := strings.Cut(spec, "|")
	dsn, partsText, _ := strings.Cut(rest, "|")
	parts, _ := strconv.Atoi(partsText)
	c, err := allsource.NewCoreClient(url, testKey, allsource.WithRuntimeOptions(runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 0})))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg := sqlConfig(sqlSoakName(parts), db)
	cfg.TxEvents = 50
	var hs []*Handle[*SQLState]
	if parts > 1 {
		cfg.Partition.Count = parts
		hs, err = StartSQLPartitions(context.Background(), c, cfg)
	} else {
		var h *Handle[*SQLState]
		h, err = StartSQL(context.Background(), c, cfg)
		hs = append(hs, h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for _, h := range hs {
		if err := h.WaitCaughtUp(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	fmt.Println("caught-up")
	<-hs[0].Done()
	fmt.Fprintln(os.Stderr, hs[0].Err())
	return 1
}

// sqlSoakName is the consumer name of the kill soak with parts partitions.
func sqlSoakName(parts int) string {
	if parts > 1 {
		return fmt.Sprintf("sql-killed-%dparts", parts)
	}
	return "sql-killed"
}

// TestSQLModeKillSoak kills a database-mode worker process with SIGKILL at
// random moments while events are written, restarts it each time, and
// checks the table against the fold from scratch: 0 lost, 0 applied twice.
// It runs with the whole projection in one worker, and with 3 partitions
// sharing the process's stream.
func TestSQLModeKillSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, parts := range []int{1, 3} {
		t.Run(fmt.Sprintf("partitions=%d", parts), func(t *testing.T) { sqlKillSoak(t, parts) })
	}
}

func sqlKillSoak(t *testing.T, parts int) {
	pg := pgtest.Start(t)
	dsn, db := pg.NewDB(t)
	if _, err := db.Exec(aggTable); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.ingest(2000, 40, "test.created")
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	const kills = 8
	startChild := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), sqlChildEnv+"="+f.srv.URL+"|"+dsn+"|"+strconv.Itoa(parts))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		if !lines.Scan() || lines.Text() != "caught-up" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child did not catch up: %q", lines.Text())
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		return cmd
	}
	for range kills {
		cmd := startChild()
		// Live traffic, and a SIGKILL at a random moment within it.
		at := rng.IntN(10)
		for i := range 10 {
			f.ingest(50+rng.IntN(100), 40, "test.updated")
			if i == at {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.ingest(rng.IntN(200), 40, "test.updated") // while it is down
	}
	cfg := sqlConfig(sqlSoakName(parts), db)
	var hs []*Handle[*SQLState]
	var err error
	if parts > 1 {
		cfg.Partition.Count = parts
		hs, err = StartSQLPartitions(context.Background(), f.c, cfg)
	} else {
		var h *Handle[*SQLState]
		h, err = StartSQL(context.Background(), f.c, cfg)
		hs = append(hs, h)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, h := range hs {
			_ = h.Stop(context.Background())
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	var lost, twice int64
	var diff string
	for {
		lost, twice, diff = f.truth.compare(readAgg(t, db))
		if diff == "" || twice > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("sql kill soak: seed %d, %d partitions, %d kills, %d events, %d lost, %d applied twice\n", seed, parts, kills, f.truth.total(), lost, twice)
	if diff != "" {
		t.Fatalf("table differs from the fold from scratch: %s (lost %d, applied twice %d)", diff, lost, twice)
	}
}
