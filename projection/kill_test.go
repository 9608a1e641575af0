package projection

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/runtime"
)

// The child process of TestWorkerKilledAndRestarted: it runs a worker
// against the server named in the environment until it is killed.
const childEnv = "PROJECTION_KILL_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	if spec := os.Getenv(sqlChildEnv); spec != "" {
		os.Exit(runSQLChild(spec))
	}
	os.Exit(m.Run())
}

func runChild(spec string) int {
	url, dir, ok := strings.Cut(spec, "|")
	if !ok {
		fmt.Fprintln(os.Stderr, "bad child spec")
		return 2
	}
	c, err := allsource.NewCoreClient(url, testKey, allsource.WithRuntimeOptions(runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 0})))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg := Config[aggState]{
		Name: "killed", EventTypes: []string{"test.*"}, Reducer: aggReducer, Initial: newAggState,
		Store: NewFileStore(dir), CheckpointEvents: 200, CheckpointPeriod: 20 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	h, err := Start(context.Background(), c, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := h.WaitCaughtUp(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("caught-up")
	<-h.Done()
	fmt.Fprintln(os.Stderr, h.Err())
	return 1
}

func TestWorkerKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	f := newFixture(t)
	dir := t.TempDir()
	f.ingest(3000, 50, "test.created")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+f.srv.URL+"|"+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "caught-up" {
		t.Fatalf("child did not catch up: %q", lines.Text())
	}
	// Live traffic while the child runs, then a kill -9 in the middle of it.
	store := NewFileStore(dir)
	for i := range 10 {
		f.ingest(200, 50, "test.updated")
		if i == 7 {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	snap, found, err := store.Load(context.Background(), "killed")
	if err != nil || !found {
		t.Fatalf("no snapshot left by the killed worker: %v", err)
	}
	cursor := f.cursor("killed")
	t.Logf("killed worker left snapshot at %d, cursor %d, of %d events", snap.Position, cursor, f.truth.total())
	if cursor > snap.Position {
		t.Fatalf("cursor %d is ahead of the durable snapshot %d", cursor, snap.Position)
	}

	f.ingest(500, 50, "test.updated")
	h := f.start(f.config("killed", store))
	waitCaughtUp(t, h)
	f.waitState(h)
	st := h.Stats()
	if want := f.truth.total() - snap.Position; st.Applied != want {
		t.Fatalf("restart applied %d events, want the %d after the snapshot", st.Applied, want)
	}
}
