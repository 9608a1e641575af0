package projection

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snaps")
	fs := NewFileStore(dir)
	ctx := context.Background()
	if _, found, err := fs.Load(ctx, "assets"); err != nil || found {
		t.Fatalf("Load before Save = found %v, err %v", found, err)
	}
	want := Snapshot{
		Format: SnapshotFormat, Consumer: "assets", Position: 42,
		Versions: map[string]int64{"default/a-1": 3, "t2/x/y": 1},
		Applied:  7, SavedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		State: json.RawMessage(`{"a":1}`),
	}
	if err := fs.Save(ctx, "assets", want); err != nil {
		t.Fatal(err)
	}
	got, found, err := fs.Load(ctx, "assets")
	if err != nil || !found {
		t.Fatalf("Load = found %v, err %v", found, err)
	}
	if got.Position != 42 || got.Applied != 7 || got.Versions["t2/x/y"] != 1 || got.Versions["default/a-1"] != 3 ||
		string(got.State) != `{"a":1}` || !got.SavedAt.Equal(want.SavedAt) {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
	want.Position = 50
	if err := fs.Save(ctx, "assets", want); err != nil {
		t.Fatal(err)
	}
	got, _, _ = fs.Load(ctx, "assets")
	if got.Position != 50 {
		t.Fatalf("after second Save position = %d, want 50", got.Position)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only the snapshot (no temporary files left)", names)
	}
}

func TestFileStoreNamesAreSafe(t *testing.T) {
	fs := NewFileStore(t.TempDir())
	for _, name := range []string{"../escape", "a/b", ".hidden", "ok-name_1.v2", "ünïcode"} {
		p := fs.Path(name)
		if filepath.Dir(p) != fs.Dir {
			t.Errorf("Path(%q) = %q escapes %q", name, p, fs.Dir)
		}
		if strings.HasPrefix(filepath.Base(p), ".") {
			t.Errorf("Path(%q) = %q is hidden", name, p)
		}
		s := Snapshot{Format: SnapshotFormat, Consumer: name, Position: 1, State: json.RawMessage(`1`)}
		if err := fs.Save(context.Background(), name, s); err != nil {
			t.Fatalf("Save(%q): %v", name, err)
		}
		if got, found, err := fs.Load(context.Background(), name); err != nil || !found || got.Consumer != name {
			t.Fatalf("Load(%q) = %+v, %v, %v", name, got, found, err)
		}
	}
	if fs.Path("a/b") == fs.Path("a%2Fb") {
		t.Error("distinct names share a file")
	}
}

func TestFileStoreRejectsForeignAndCorrupt(t *testing.T) {
	fs := NewFileStore(t.TempDir())
	ctx := context.Background()
	if err := fs.Save(ctx, "a", Snapshot{Format: SnapshotFormat, Consumer: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Load(ctx, "a"); err == nil || !strings.Contains(err.Error(), `consumer "b"`) {
		t.Errorf("Load of another consumer's snapshot: err = %v", err)
	}
	if err := os.WriteFile(fs.Path("c"), []byte(`{"format":1,"consumer":"c",`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Load(ctx, "c"); err == nil {
		t.Error("Load of a torn file succeeded")
	}
	if err := os.WriteFile(fs.Path("d"), []byte(`{"format":99,"consumer":"d"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Load(ctx, "d"); err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("Load of a future format: err = %v", err)
	}
}

func TestFileStoreSaveFailsWhenDirIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fs := NewFileStore(file)
	if err := fs.Save(context.Background(), "x", Snapshot{Format: SnapshotFormat, Consumer: "x"}); err == nil {
		t.Fatal("Save into a file path succeeded")
	}
}
