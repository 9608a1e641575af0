package projection

import (
	"context"
	"errors"
	"testing"
)

func TestRebuildUnderANewNameThenSwitch(t *testing.T) {
	f := newFixture(t)
	f.ingest(500, 10, "test.created")
	store := NewFileStore(t.TempDir())
	cfg := f.config("v1", store)
	cfg.EventTypes = []string{"test.created"}
	old := f.start(cfg)
	waitCaughtUp(t, old)
	serving := NewServing(old)
	f.ingest(300, 10, "test.updated") // the old worker does not fold these

	count := func() (n int64) {
		serving.Read(func(s aggState) {
			for _, a := range s {
				n += a.Count
			}
		})
		return n
	}
	if n := count(); n != 500 {
		t.Fatalf("old worker serves %d events, want 500", n)
	}
	cfg2 := f.config("v2", store)
	cfg2.EventTypes = []string{"test.*"}
	if err := Rebuild(context.Background(), f.c, serving, cfg2); err != nil {
		t.Fatal(err)
	}
	if serving.Handle() == old {
		t.Fatal("serving did not switch")
	}
	defer stop(t, serving.Handle())
	select {
	case <-old.Done():
	default:
		t.Fatal("the old worker still runs after the switch")
	}
	f.waitState(serving.Handle())
	if n := count(); n != 800 {
		t.Fatalf("rebuilt worker serves %d events, want 800", n)
	}
	if err := Rebuild(context.Background(), f.c, serving, cfg2); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Rebuild under the serving name = %v, want ErrInvalidConfig", err)
	}
}
