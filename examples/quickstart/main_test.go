package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/allsource-go/allsource/coretest"
)

// TestReadmeQuickStartIsThisProgram keeps the README's quick start and this
// program the same text, so that TestQuickStartAgainstDevServer runs the
// README's code verbatim.
func TestReadmeQuickStartIsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quick start\n")
	if !ok {
		t.Fatal("README.md has no Quick start section")
	}
	_, block, ok := strings.Cut(section, "\n```go\n")
	if !ok {
		t.Fatal("the Quick start section has no go code block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("the Quick start code block is not closed")
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(block) != strings.TrimSpace(string(src)) {
		t.Fatal("the README's quick start differs from examples/quickstart/main.go: copy main.go into the README's code block")
	}
}

// TestQuickStartAgainstDevServer runs the quick start against the server
// `go run ./cmd/allsource-server -dev` starts (coretest in dev mode, no
// keys) and checks that it finds the events it wrote, twice: the second
// run sees six.
func TestQuickStartAgainstDevServer(t *testing.T) {
	srv := coretest.NewTestServer(t, coretest.WithDevMode())
	t.Setenv("ALLSOURCE_URL", srv.URL)
	t.Setenv("ALLSOURCE_API_KEY", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, want := range []int{3, 6} {
		var out bytes.Buffer
		n, err := run(ctx, &out)
		if err != nil {
			t.Fatal(err)
		}
		if n != want || !strings.Contains(out.String(), "v1 order.placed order 1: 4999 cents") {
			t.Fatalf("found %d events, want %d:\n%s", n, want, out.String())
		}
	}
}
