package main

import (
	"context"
	"testing"
	"time"
)

// TestRun runs the example end to end against the embedded server.
func TestRun(t *testing.T) {
	t.Setenv("ALLSOURCE_URL", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
}
