package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// SnapshotFormat is the version of the snapshot encoding written by this
// package.
const SnapshotFormat = 1

// Snapshot is the worker's durable checkpoint: the reduced state and the
// per-entity versions, together with the consumer position they cover.
//
// Invariant: State holds exactly the events matching the worker's event
// types whose position is at or below Position, each applied once, and
// Versions holds, for every entity in it, the version of the last of that
// entity's events applied.
type Snapshot struct {
	// Format is the encoding version (SnapshotFormat).
	Format int `json:"format"`
	// Consumer is the durable consumer name the snapshot belongs to.
	Consumer string `json:"consumer"`
	// EventTypes are the event-type filters the state was folded with,
	// sorted; none means every type.
	EventTypes []string `json:"event_types,omitempty"`
	// Position is Core's global position the snapshot covers.
	Position int64 `json:"position"`
	// Versions maps "tenant/entity" to the version of the last event of
	// that entity reflected in State.
	Versions map[string]int64 `json:"versions"`
	// Applied counts the events reduced into State since the consumer
	// started from empty.
	Applied int64 `json:"applied"`
	// SavedAt is when the snapshot was taken.
	SavedAt time.Time `json:"saved_at"`
	// State is the reduced state, encoded with encoding/json.
	State json.RawMessage `json:"state"`
}

// SnapshotStore keeps one snapshot per consumer name. Save must not return
// before the snapshot is durable: the worker acknowledges the snapshot's
// position to Core as soon as Save returns, after which Core no longer
// replays the events it covers.
type SnapshotStore interface {
	// Load returns the last snapshot saved under name; found is false when
	// there is none.
	Load(ctx context.Context, name string) (s Snapshot, found bool, err error)
	// Save replaces the snapshot stored under name, durably.
	Save(ctx context.Context, name string, s Snapshot) error
}

// FileStore is a SnapshotStore that keeps each snapshot in a file in Dir.
// A save writes a temporary file, syncs it, renames it over the previous
// snapshot and syncs the directory, so a crash at any point leaves either
// the old or the new snapshot, never a torn one.
type FileStore struct {
	// Dir is the directory holding the snapshots; Save creates it.
	Dir string
}

// NewFileStore returns a FileStore keeping snapshots in dir.
func NewFileStore(dir string) *FileStore { return &FileStore{Dir: dir} }

// Path returns the file that holds the snapshot of name.
func (f *FileStore) Path(name string) string {
	return filepath.Join(f.Dir, fileName(name)+".snapshot.json")
}

// fileName encodes a consumer name as a portable file name: letters,
// digits, '-', '_' and '.' are kept, every other byte becomes "%XX".
func fileName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Load reads the snapshot of name.
func (f *FileStore) Load(ctx context.Context, name string) (Snapshot, bool, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, false, err
	}
	path := f.Path(name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Snapshot{}, false, nil
	}
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: load snapshot: %w", err)
	}
	s, err := decodeSnapshot(data, name)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: load snapshot %s: %w", path, err)
	}
	return s, true, nil
}

// Save writes the snapshot of name atomically and durably.
func (f *FileStore) Save(ctx context.Context, name string, s Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("projection: encode snapshot: %w", err)
	}
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return fmt.Errorf("projection: save snapshot: %w", err)
	}
	path := f.Path(name)
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("projection: save snapshot %s: %w", path, err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Windows cannot sync a directory; its rename is already durable
		// as far as the system allows.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// decodeSnapshot decodes and checks an encoded snapshot of name.
func decodeSnapshot(data []byte, name string) (Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return Snapshot{}, fmt.Errorf("decode: %w", err)
	}
	if s.Format != SnapshotFormat {
		return Snapshot{}, fmt.Errorf("unsupported snapshot format %d (want %d)", s.Format, SnapshotFormat)
	}
	if s.Consumer != name {
		return Snapshot{}, fmt.Errorf("snapshot belongs to consumer %q, not %q", s.Consumer, name)
	}
	if s.Position < 0 {
		return Snapshot{}, fmt.Errorf("negative position %d", s.Position)
	}
	if s.Versions == nil {
		s.Versions = make(map[string]int64)
	}
	return s, nil
}
