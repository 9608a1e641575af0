package coretest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// The data directory holds three append-only JSON-lines logs:
//
//	events.jsonl       one stored event per line, in position order
//	consumers.jsonl    a consumer's full state after each change (last wins)
//	projections.jsonl  state-store puts and projection deletions
//
// plus a LOCK file that one server at a time holds (where the platform has
// file locks), so that two servers never append to the same logs.
//
// They are replayed at start, and the consumer and projection logs are then
// rewritten with one line per live entry, so they do not grow without
// bound across restarts. A line cut short by a crash is dropped and
// the file truncated to the last whole line. Writes reach the operating
// system before the response that depends on them is sent, so they survive
// the process being killed; the files are synced to disk on Close, not per
// request, so a power loss can lose the most recent writes.

const (
	eventsFile      = "events.jsonl"
	consumersFile   = "consumers.jsonl"
	projectionsFile = "projections.jsonl"
)

type persister struct {
	lock        *os.File // held for the data directory's lifetime; nil where unsupported
	mu          sync.Mutex
	events      *os.File
	ew          *bufio.Writer
	consumers   *os.File
	projections *os.File
	line        []byte
}

// projectionRecord is one line of projections.jsonl.
type projectionRecord struct {
	Op       string          `json:"op"` // "put" or "delete"
	Name     string          `json:"name"`
	EntityID string          `json:"entity_id,omitempty"`
	State    json.RawMessage `json:"state,omitempty"`
}

// storedLine is one line of events.jsonl.
type storedLine struct {
	ID        string          `json:"id"`
	EventType string          `json:"event_type"`
	EntityID  string          `json:"entity_id"`
	TenantID  string          `json:"tenant_id"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp time.Time       `json:"timestamp"`
	Metadata  json.RawMessage `json:"metadata"`
	Version   int64           `json:"version"`
}

// openPersister loads dir into s and opens its logs for appending.
func openPersister(dir string, s *Server) (*persister, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	p := &persister{lock: lock}
	if p.events, err = replayLog(filepath.Join(dir, eventsFile), s.restoreEvent); err != nil {
		p.unlock()
		return nil, err
	}
	p.ew = bufio.NewWriterSize(p.events, 1<<20)
	if p.consumers, err = replayLog(filepath.Join(dir, consumersFile), s.restoreConsumer); err == nil {
		p.consumers, err = rewriteLog(p.consumers, s.consumerLines())
	}
	if err != nil {
		_ = p.events.Close()
		p.unlock()
		return nil, err
	}
	if p.projections, err = replayLog(filepath.Join(dir, projectionsFile), s.restoreProjection); err == nil {
		p.projections, err = rewriteLog(p.projections, s.projectionLines())
	}
	if err != nil {
		_ = p.events.Close()
		_ = p.consumers.Close()
		p.unlock()
		return nil, err
	}
	return p, nil
}

// rewriteLog replaces the log f with lines, atomically (a new file renamed
// over the old one), and returns the new file opened for appending. f is
// closed.
func rewriteLog(f *os.File, lines []any) (*os.File, error) {
	path := f.Name()
	_ = f.Close()
	tmp := path + ".tmp"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir: compact %s: %w", filepath.Base(path), err)
	}
	w := bufio.NewWriter(out)
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			_ = out.Close()
			return nil, fmt.Errorf("data dir: compact %s: %w", filepath.Base(path), err)
		}
		_, _ = w.Write(append(b, '\n'))
	}
	err = w.Flush()
	if err == nil {
		err = out.Sync()
	}
	if err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("data dir: compact %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("data dir: compact %s: %w", filepath.Base(path), err)
	}
	return out, nil
}

// consumerLines is the compacted consumer log.
func (s *Server) consumerLines() []any {
	var lines []any
	for _, c := range s.consumers.all() {
		lines = append(lines, c)
	}
	return lines
}

// projectionLines is the compacted projection log: deletions of built-in
// projections, then every stored state in a stable order.
func (s *Server) projectionLines() []any {
	s.projections.mu.RLock()
	defer s.projections.mu.RUnlock()
	var lines []any
	for _, name := range []string{projEntitySnapshots, projEventCounters} {
		if _, ok := s.projections.registered[name]; !ok {
			lines = append(lines, projectionRecord{Op: "delete", Name: name})
		}
	}
	names := make([]string, 0, len(s.projections.kv))
	for name := range s.projections.kv {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ids := make([]string, 0, len(s.projections.kv[name]))
		for id := range s.projections.kv[name] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			lines = append(lines, projectionRecord{Op: "put", Name: name, EntityID: id, State: s.projections.kv[name][id]})
		}
	}
	return lines
}

// replayLog calls apply for each whole line of path, truncates a torn last
// line, and returns the file opened for appending.
func replayLog(path string, apply func([]byte) error) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var good int64
	lineNo := 0
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// A last line without its newline was cut short by a crash.
			break
		}
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("data dir: read %s: %w", filepath.Base(path), err)
		}
		lineNo++
		if aerr := apply(bytes.TrimSpace(line)); aerr != nil {
			_ = f.Close()
			return nil, fmt.Errorf("data dir: %s line %d: %w", filepath.Base(path), lineNo, aerr)
		}
		good += int64(len(line))
	}
	if err := f.Truncate(good); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("data dir: truncate %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("data dir: seek %s: %w", filepath.Base(path), err)
	}
	return f, nil
}

func (s *Server) restoreEvent(line []byte) error {
	if len(line) == 0 {
		return nil
	}
	var l storedLine
	if err := json.Unmarshal(line, &l); err != nil {
		return err
	}
	id, ok := parseUUID(l.ID)
	if !ok {
		return fmt.Errorf("bad event id %q", l.ID)
	}
	ne := newEvent{
		eventType: l.EventType, entityID: l.EntityID, tenantID: l.TenantID,
		payload: l.Payload, restoredID: &id, restoredTS: l.Timestamp.UnixNano(),
	}
	if len(l.Metadata) > 0 && string(l.Metadata) != "null" {
		ne.metadata = l.Metadata
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	_, err := s.store.append(&ne)
	return err
}

func (s *Server) restoreConsumer(line []byte) error {
	if len(line) == 0 {
		return nil
	}
	var snap consumerSnapshot
	if err := json.Unmarshal(line, &snap); err != nil {
		return err
	}
	s.consumers.restore(snap)
	return nil
}

func (s *Server) restoreProjection(line []byte) error {
	if len(line) == 0 {
		return nil
	}
	var rec projectionRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return err
	}
	s.projections.mu.Lock()
	defer s.projections.mu.Unlock()
	switch rec.Op {
	case "put":
		s.projections.put(rec.Name, rec.EntityID, rec.State)
	case "delete":
		delete(s.projections.registered, rec.Name)
		delete(s.projections.kv, rec.Name)
	default:
		return fmt.Errorf("unknown op %q", rec.Op)
	}
	return nil
}

// appendEvents buffers the events at [first, last). The caller holds the
// store's write lock, so lines are written in position order.
func (p *persister) appendEvents(st *store, first, last int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pos := first; pos < last; pos++ {
		ev := st.event(pos)
		p.line = appendEventJSON(p.line[:0], &ev)
		p.line = append(p.line, '\n')
		_, _ = p.ew.Write(p.line) // the error resurfaces on Flush
	}
}

// flushEvents hands buffered events to the operating system.
func (p *persister) flushEvents() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ew.Flush(); err != nil {
		return fmt.Errorf("data dir: write events: %w", err)
	}
	return nil
}

func (p *persister) writeLine(f *os.File, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("data dir: write %s: %w", filepath.Base(f.Name()), err)
	}
	return nil
}

func (p *persister) writeConsumer(snap consumerSnapshot) error {
	return p.writeLine(p.consumers, snap)
}

func (p *persister) writeProjection(rec projectionRecord) error {
	return p.writeLine(p.projections, rec)
}

// unlock releases the data directory.
func (p *persister) unlock() {
	if p.lock != nil {
		_ = p.lock.Close()
	}
}

// close flushes, syncs and closes the logs, then releases the directory.
func (p *persister) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.unlock()
	var errs []error
	if err := p.ew.Flush(); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []*os.File{p.events, p.consumers, p.projections} {
		if err := f.Sync(); err != nil {
			errs = append(errs, err)
		}
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("data dir: close: %w", err)
	}
	return nil
}
