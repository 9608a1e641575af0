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
	"strconv"
	"strings"
	"sync"
	"time"
)

// SnapshotFormat is the version of the snapshot encoding written by this
// package. Format 1 (a whole snapshot, without deltas) is still read.
const SnapshotFormat = 2

// Snapshot is the worker's durable checkpoint: the reduced state and the
// per-entity versions, together with the consumer position they cover.
// The worker hands a store either a whole snapshot or a delta: the changes
// since the previous snapshot it saved under the same name.
//
// Invariant: the state (State, or Entries for a keyed state) holds exactly
// the events matching the worker's event types whose position is at or
// below Position, each applied once, and Versions holds, for every entity
// in it, the version of the last of that entity's events applied.
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
	// that entity reflected in the state; in a delta, only the entities
	// whose version changed.
	Versions map[string]int64 `json:"versions"`
	// Applied counts the events reduced into the state since the consumer
	// started from empty.
	Applied int64 `json:"applied"`
	// SavedAt is when the snapshot was taken.
	SavedAt time.Time `json:"saved_at"`
	// State is a whole-value state, encoded with encoding/json; a delta
	// holds it whole too. Empty for a keyed state.
	State json.RawMessage `json:"state,omitempty"`
	// Keyed is set for a keyed state (a *Map), whose entries are in
	// Entries and Deleted instead of State.
	Keyed bool `json:"keyed,omitempty"`
	// Entries are the entries of a keyed state, each encoded with
	// encoding/json; in a delta, only those set since the previous
	// snapshot.
	Entries map[string]json.RawMessage `json:"entries,omitempty"`
	// Deleted lists, in a delta of a keyed state, the keys deleted since
	// the previous snapshot.
	Deleted []string `json:"deleted,omitempty"`
	// Delta is set when the snapshot holds only the changes since the
	// previous snapshot saved under the same name.
	Delta bool `json:"delta,omitempty"`
	// Live is, in a delta of a keyed state, the number of versions and
	// entries the whole snapshot holds once the delta is merged; 0 when
	// unknown. A store compares it with what it keeps to tell how much of
	// that is superseded.
	Live int64 `json:"live,omitempty"`

	// enc, when set, holds members of Versions and Entries already
	// encoded, which a chain writes as they are: the worker hands a
	// FileStore or a CoreStore its deltas so (see capture.build).
	enc *encodedMembers
}

// Merge applies delta d to the whole snapshot s: afterwards s is the
// snapshot d was taken as. A whole d replaces s.
func (s *Snapshot) Merge(d Snapshot) {
	if !d.Delta {
		*s = d
		return
	}
	s.Format, s.Consumer, s.EventTypes = d.Format, d.Consumer, d.EventTypes
	s.Position, s.Applied, s.SavedAt = d.Position, d.Applied, d.SavedAt
	if s.Versions == nil {
		s.Versions = make(map[string]int64, len(d.Versions))
	}
	for k, v := range d.Versions {
		s.Versions[k] = v
	}
	s.Keyed = d.Keyed
	if d.Keyed {
		s.State = nil
		if s.Entries == nil {
			s.Entries = make(map[string]json.RawMessage, len(d.Entries))
		}
		for k, v := range d.Entries {
			s.Entries[k] = v
		}
		for _, k := range d.Deleted {
			delete(s.Entries, k)
		}
	} else {
		s.State = d.State
		s.Entries = nil
	}
	s.Deleted = nil
	s.Delta = false
	s.Live = 0
}

// SnapshotStore keeps one snapshot per consumer name, as a whole snapshot
// plus the deltas saved after it. Save must not return before the snapshot
// is durable: the worker acknowledges the snapshot's position to Core as
// soon as Save returns, after which Core no longer replays the events it
// covers.
//
// Save may keep s and what it holds: the worker builds every snapshot it
// gives a store anew, except the deltas it gives a FileStore or a CoreStore,
// which keep nothing of a snapshot once Save returns, and whose buffers it
// reuses for the next delta.
//
// The worker saves a whole snapshot first (after a start without one, and
// after any failed Save), then deltas. A store may merge deltas into its
// whole snapshot at any time (compaction), as long as Load returns the
// merged result of everything saved.
type SnapshotStore interface {
	// Load returns the last snapshot saved under name, deltas merged (a
	// whole snapshot: Delta false); found is false when there is none.
	Load(ctx context.Context, name string) (s Snapshot, found bool, err error)
	// Save stores s under name, durably: a whole snapshot replaces what
	// was there, a delta is applied on top of it.
	Save(ctx context.Context, name string, s Snapshot) error
}

// FileStore is a SnapshotStore that keeps each consumer's snapshot in files
// in Dir: a base file (Path) and one file per delta saved after it, which a
// background compaction merges into the base once they outweigh it. Every
// file is written atomically and synced (a temporary file, synced, renamed
// over, then the directory synced), so a crash at any point leaves the old
// or the new file, never a torn one.
type FileStore struct {
	// Dir is the directory holding the snapshots; Save creates it.
	Dir string

	chainOnce sync.Once
	chain     *chain
}

// NewFileStore returns a FileStore keeping snapshots in dir.
func NewFileStore(dir string) *FileStore { return &FileStore{Dir: dir} }

// Path returns the file that holds the base snapshot of name.
func (f *FileStore) Path(name string) string {
	return filepath.Join(f.Dir, fileName(name)+".snapshot.json")
}

// deltaPath returns the file of delta seq of name.
func (f *FileStore) deltaPath(name string, seq int64) string {
	return filepath.Join(f.Dir, fileName(name)+".delta-"+strconv.FormatInt(seq, 10)+".json")
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

func (f *FileStore) getChain() *chain {
	f.chainOnce.Do(func() { f.chain = newChain(fileBlobs{f}) })
	return f.chain
}

// Load reads the snapshot of name: its base and the deltas saved after it.
func (f *FileStore) Load(ctx context.Context, name string) (Snapshot, bool, error) {
	return f.getChain().load(ctx, name)
}

// Save writes the snapshot of name atomically and durably: a whole
// snapshot as the new base, a delta as a file of its own.
func (f *FileStore) Save(ctx context.Context, name string, s Snapshot) error {
	return f.getChain().save(ctx, name, s)
}

// savesEncoded reports whether store takes a snapshot whose members are
// already encoded (Snapshot.enc): a FileStore or a CoreStore, which save
// through a chain. A store that wraps one gets the maps, which it may
// read.
func savesEncoded(store SnapshotStore) bool {
	switch store.(type) {
	case *FileStore, *CoreStore:
		return true
	}
	return false
}

// Close waits for the background compactions in progress. The store stays
// usable.
func (f *FileStore) Close() error {
	f.getChain().wait()
	return nil
}

// fileBlobs keeps a chain's records in a FileStore's files.
type fileBlobs struct{ f *FileStore }

func (b fileBlobs) path(name string, seq int64) string {
	if seq == 0 {
		return b.f.Path(name)
	}
	return b.f.deltaPath(name, seq)
}

func (b fileBlobs) put(ctx context.Context, name string, seq int64, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(b.f.Dir, 0o755); err != nil {
		return err
	}
	path := b.path(name, seq)
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (b fileBlobs) get(ctx context.Context, name string, seq int64) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	data, err := os.ReadFile(b.path(name, seq))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

func (b fileBlobs) remove(_ context.Context, name string, seq int64) error {
	err := os.Remove(b.path(name, seq))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
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

// checkSnapshot checks a decoded snapshot of name.
func checkSnapshot(s Snapshot, name string) (Snapshot, error) {
	if s.Format != SnapshotFormat && s.Format != 1 {
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
	if s.Keyed && s.Entries == nil {
		s.Entries = make(map[string]json.RawMessage)
	}
	return s, nil
}
