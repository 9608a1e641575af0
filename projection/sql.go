package projection

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/runtime"
)

// Defaults for SQLConfig.
const (
	DefaultTxEvents = 5000
	DefaultTxPeriod = time.Second
	// DefaultSQLTables prefixes the tables the worker keeps its position
	// and versions in.
	DefaultSQLTables = "allsource_projection"
)

// ErrConcurrentWorker is matched by the error a database-mode worker stops
// with when another worker committed for the same consumer since it last
// read or wrote its position: two workers would apply events twice.
var ErrConcurrentWorker = errors.New("projection: another worker committed for this consumer")

// SQLConfig configures a worker whose read model lives in a database, with
// exactly-once commits: the events of a transaction are applied by Apply,
// and the worker writes, in the same transaction, the consumer's position
// and the versions of the entities the events touched; Core's cursor is
// acknowledged after the commit. A worker that restarts, or crashes at any
// point, resumes from the committed position: every event is in the read
// model once. The worker keeps no read model in memory; it keeps the
// entities' versions, read from the database at start.
//
// The SQL the worker runs is PostgreSQL's (INSERT ... ON CONFLICT); the
// driver is the caller's (pgx's database/sql driver, say).
type SQLConfig struct {
	// Name is the durable consumer name; Core keeps its cursor. Required.
	Name string
	// EventTypes are the consumer's event-type filters, as in Config.
	EventTypes []string
	// DB is the database. Required.
	DB *sql.DB
	// Apply writes events, in order, into the read model through tx. It
	// gets all the events of one transaction at once, so that it can write
	// them with a few statements (an upsert of many rows, say) rather than
	// a round trip per event; EachEvent adapts a function of one event. An
	// error rolls the transaction back: the worker retries it as
	// Poison.Retries says, then stops with a *ReducerError. Required.
	Apply func(ctx context.Context, tx *sql.Tx, events []Event) error
	// TxEvents, a number of events, is the most events in one
	// transaction; default DefaultTxEvents.
	TxEvents int
	// TxPeriod, a duration, is the longest time an event waits for its
	// transaction while events arrive; default DefaultTxPeriod.
	TxPeriod time.Duration
	// Tables prefixes the names of the two tables the worker keeps its
	// position (<Tables>_positions) and versions (<Tables>_versions) in;
	// default DefaultSQLTables. They are created when missing.
	Tables string
	// Poison.Retries and its backoff govern retries of a failed
	// transaction; PoisonSkip is refused (a transaction fails as a whole).
	Poison PoisonPolicy
	// MinBackoff, MaxBackoff and StallTimeout are as in Config.
	MinBackoff, MaxBackoff, StallTimeout time.Duration
	// OnError is as in Config.
	OnError func(err error)
	// Logger receives the worker's log; nil means slog.Default().
	Logger *slog.Logger
}

// EachEvent adapts a function that writes one event into an Apply that
// calls it for each event in order; its error names the event.
func EachEvent(apply func(ctx context.Context, tx *sql.Tx, ev Event) error) func(context.Context, *sql.Tx, []Event) error {
	return func(ctx context.Context, tx *sql.Tx, events []Event) error {
		for _, ev := range events {
			if err := apply(ctx, tx, ev); err != nil {
				return &ReducerError{Event: ev, Err: err}
			}
		}
		return nil
	}
}

// SQLState is the in-memory state of a database-mode worker: the events
// waiting for their transaction. It has nothing to read; the read model is
// in the database.
type SQLState struct {
	pending []Event
}

// MarshalJSON encodes nothing: the state is in the database.
func (*SQLState) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// UnmarshalJSON ignores data, for the same reason.
func (*SQLState) UnmarshalJSON([]byte) error { return nil }

// Pending returns the number of events waiting for their transaction.
func (s *SQLState) Pending() int { return len(s.pending) }

var tablePrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// StartSQL starts a database-mode worker: it creates the worker's tables
// when missing, reads the committed position and versions, registers the
// consumer and starts the worker, as Start does.
func StartSQL(ctx context.Context, c allsource.CoreClient, cfg SQLConfig) (*Handle[*SQLState], error) {
	if c.API() == nil {
		return nil, errors.New("projection: zero CoreClient (use allsource.NewCoreClient)")
	}
	h, _, err := startSQL(ctx, &coreClient{c: c}, cfg)
	return h, err
}

func startSQL(ctx context.Context, api coreAPI, cfg SQLConfig) (*Handle[*SQLState], *sqlStore, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if cfg.Tables == "" {
		cfg.Tables = DefaultSQLTables
	}
	switch {
	case cfg.DB == nil:
		return nil, nil, bad("DB is required")
	case cfg.Apply == nil:
		return nil, nil, bad("Apply is required")
	case cfg.Poison.Action == PoisonSkip:
		return nil, nil, bad("PoisonSkip is not available in database mode: a transaction fails as a whole")
	case cfg.TxEvents < 0:
		return nil, nil, bad("TxEvents is %d; it must not be negative", cfg.TxEvents)
	case !tablePrefix.MatchString(cfg.Tables):
		return nil, nil, bad("Tables %q is not a lowercase SQL name of up to 41 characters", cfg.Tables)
	}
	if cfg.TxEvents == 0 {
		cfg.TxEvents = DefaultTxEvents
	}
	if cfg.TxPeriod == 0 {
		cfg.TxPeriod = DefaultTxPeriod
	}
	store := &sqlStore{db: cfg.DB, apply: cfg.Apply, positions: cfg.Tables + "_positions", versions: cfg.Tables + "_versions"}
	wcfg := Config[*SQLState]{
		Name:       cfg.Name,
		EventTypes: cfg.EventTypes,
		Reducer: func(s *SQLState, ev Event) (*SQLState, error) {
			s.pending = append(s.pending, ev)
			return s, nil
		},
		Initial:          func() *SQLState { return &SQLState{} },
		Store:            store,
		CheckpointEvents: 2 * cfg.TxEvents, // a checkpoint every TxEvents
		CheckpointPeriod: cfg.TxPeriod,
		MinBackoff:       cfg.MinBackoff,
		MaxBackoff:       cfg.MaxBackoff,
		StallTimeout:     cfg.StallTimeout,
		Poison:           PoisonPolicy{Retries: cfg.Poison.Retries, MinBackoff: cfg.Poison.MinBackoff, MaxBackoff: cfg.Poison.MaxBackoff},
		OnError:          cfg.OnError,
		Logger:           cfg.Logger,
	}
	if err := normalize(&wcfg); err != nil {
		return nil, nil, err
	}
	store.retries, store.minBackoff, store.maxBackoff = wcfg.Poison.Retries, wcfg.Poison.MinBackoff, wcfg.Poison.MaxBackoff
	// The transaction's retries are the store's; the worker has nothing to
	// retry per event.
	wcfg.Poison = PoisonPolicy{}
	if err := store.createTables(ctx); err != nil {
		return nil, nil, err
	}
	h, err := startWith(ctx, api, wcfg, func(w *worker[*SQLState]) {
		w.syncStore = true
		store.pending = func() *SQLState { return w.eng.state }
	})
	if err != nil {
		return nil, nil, err
	}
	return h, store, nil
}

// sqlStore is the SnapshotStore of a database-mode worker: Load reads the
// committed position and versions, Save commits the pending events with
// them. Save runs on the worker's goroutine (syncStore).
type sqlStore struct {
	db                  *sql.DB
	apply               func(context.Context, *sql.Tx, []Event) error
	positions, versions string
	pending             func() *SQLState
	retries             int
	minBackoff          time.Duration
	maxBackoff          time.Duration

	// arrays is set when the driver takes Go slices as array parameters
	// (pgx does): versions then go in one statement with unnest.
	arrays bool

	// committed is the position last read or committed: a commit expects
	// to find it in the database.
	committed int64
	found     bool
}

func (s *sqlStore) createTables(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.positions+` (
	consumer text PRIMARY KEY,
	position bigint NOT NULL,
	applied bigint NOT NULL,
	event_types text NOT NULL,
	saved_at timestamptz NOT NULL
)`)
	if err == nil {
		_, err = s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.versions+` (
	consumer text NOT NULL,
	entity text NOT NULL,
	version bigint NOT NULL,
	PRIMARY KEY (consumer, entity)
)`)
	}
	if err != nil {
		return fmt.Errorf("projection: create the worker's tables: %w", err)
	}
	var n int
	s.arrays = s.db.QueryRowContext(ctx, `SELECT cardinality($1::text[])`, []string{"a", "b"}).Scan(&n) == nil && n == 2
	return nil
}

// Load reads the committed position and versions of name.
func (s *sqlStore) Load(ctx context.Context, name string) (Snapshot, bool, error) {
	snap := Snapshot{Format: SnapshotFormat, Consumer: name, Versions: map[string]int64{}}
	var types string
	err := s.db.QueryRowContext(ctx, `SELECT position, applied, event_types, saved_at FROM `+s.positions+` WHERE consumer = $1`, name).
		Scan(&snap.Position, &snap.Applied, &types, &snap.SavedAt)
	if errors.Is(err, sql.ErrNoRows) {
		s.committed, s.found = 0, false
		return Snapshot{}, false, nil
	}
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: read position of %q: %w", name, err)
	}
	if err := json.Unmarshal([]byte(types), &snap.EventTypes); err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: position of %q: event types: %w", name, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT entity, version FROM `+s.versions+` WHERE consumer = $1`, name)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: read versions of %q: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return Snapshot{}, false, fmt.Errorf("projection: read versions of %q: %w", name, err)
		}
		snap.Versions[k] = v
	}
	if err := rows.Err(); err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: read versions of %q: %w", name, err)
	}
	s.committed, s.found = snap.Position, true
	return snap, true, nil
}

// Save commits the pending events, the versions in snap (a delta, or all
// of them) and snap's position in one transaction, retrying a failure of
// Apply with backoff.
func (s *sqlStore) Save(ctx context.Context, name string, snap Snapshot) error {
	st := s.pending()
	var err error
	for try := 0; ; try++ {
		err = s.commit(ctx, name, snap, st.pending)
		if err == nil || errors.Is(err, ErrConcurrentWorker) || try >= s.retries || !isApplyError(err) {
			break
		}
		t := time.NewTimer(runtime.Backoff(try+1, s.minBackoff, s.maxBackoff))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
	if err != nil {
		return err
	}
	clear(st.pending)
	st.pending = st.pending[:0]
	return nil
}

// applyError marks an error of Apply.
type applyError struct{ err error }

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

func isApplyError(err error) bool {
	var a *applyError
	return errors.As(err, &a)
}

func (s *sqlStore) commit(ctx context.Context, name string, snap Snapshot, events []Event) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projection: begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if len(events) > 0 {
		if err := s.apply(ctx, tx, events); err != nil {
			var re *ReducerError
			if !errors.As(err, &re) {
				err = &ReducerError{Event: events[0], Err: fmt.Errorf("in a transaction of %d events from here: %w", len(events), err)}
			}
			return &applyError{err}
		}
	}
	if err := s.writeVersions(ctx, tx, name, snap.Versions); err != nil {
		return err
	}
	types, _ := json.Marshal(snap.EventTypes)
	var res sql.Result
	if s.found {
		res, err = tx.ExecContext(ctx, `UPDATE `+s.positions+` SET position = $2, applied = $3, event_types = $4, saved_at = $5 WHERE consumer = $1 AND position = $6`,
			name, snap.Position, snap.Applied, string(types), snap.SavedAt, s.committed)
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO `+s.positions+` (consumer, position, applied, event_types, saved_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consumer) DO NOTHING`,
			name, snap.Position, snap.Applied, string(types), snap.SavedAt)
	}
	if err != nil {
		return fmt.Errorf("projection: write position: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: consumer %q is no longer at position %d", ErrConcurrentWorker, name, s.committed)
	}
	if err := tx.Commit(); err != nil {
		// The commit may have happened before the error: the position
		// tells.
		var pos int64
		if qerr := s.db.QueryRowContext(ctx, `SELECT position FROM `+s.positions+` WHERE consumer = $1`, name).Scan(&pos); qerr == nil && pos == snap.Position {
			s.committed, s.found = pos, true
			return nil
		}
		return fmt.Errorf("projection: commit: %w", err)
	}
	s.committed, s.found = snap.Position, true
	return nil
}

// versionRows is the number of versions written per statement.
const versionRows = 1000

func (s *sqlStore) writeVersions(ctx context.Context, tx *sql.Tx, name string, versions map[string]int64) error {
	if len(versions) == 0 {
		return nil
	}
	if s.arrays {
		keys := make([]string, 0, len(versions))
		vals := make([]int64, 0, len(versions))
		for k, v := range versions {
			keys = append(keys, k)
			vals = append(vals, v)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO `+s.versions+` (consumer, entity, version) SELECT $1, * FROM unnest($2::text[], $3::bigint[])
ON CONFLICT (consumer, entity) DO UPDATE SET version = EXCLUDED.version`, name, keys, vals)
		if err != nil {
			return fmt.Errorf("projection: write versions: %w", err)
		}
		return nil
	}
	args := make([]any, 0, 1+2*min(len(versions), versionRows))
	var q strings.Builder
	flush := func() error {
		n := (len(args) - 1) / 2
		if n == 0 {
			return nil
		}
		q.Reset()
		q.WriteString(`INSERT INTO ` + s.versions + ` (consumer, entity, version) VALUES `)
		for i := range n {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("($1,$")
			q.WriteString(strconv.Itoa(2 + 2*i))
			q.WriteString(",$")
			q.WriteString(strconv.Itoa(3 + 2*i))
			q.WriteByte(')')
		}
		q.WriteString(` ON CONFLICT (consumer, entity) DO UPDATE SET version = EXCLUDED.version`)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("projection: write versions: %w", err)
		}
		args = args[:1]
		return nil
	}
	args = append(args, name)
	for k, v := range versions {
		args = append(args, k, v)
		if len(args) == 1+2*versionRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
