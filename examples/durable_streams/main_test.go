package main

import (
	"io"
	"testing"

	"github.com/allsource-go/allsource/internal/dstest"
)

// TestRun runs the demo against the reference server.
func TestRun(t *testing.T) {
	srv := dstest.Start(t)
	if err := run(t.Context(), srv.URL, "demo/test", io.Discard); err != nil {
		t.Fatal(err)
	}
}
