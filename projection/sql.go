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
	// Tables prefixes the names of the tables the worker keeps its
	// position (<Tables>_positions), versions (<Tables>_versions), number
	// of partitions (<Tables>_partitions) and dead letters
	// (<Tables>_dead_letters) in; default DefaultSQLTables. They are
	// created when missing.
	Tables string
	// Partition makes the worker one partition of a projection split by
	// entity, as in Config; each partition commits its own position row
	// (under its consumer name) with its events. StartSQLPartitions starts
	// several in one process.
	Partition Partition
	// Poison.Retries and its backoff govern retries of a failed
	// transaction. With PoisonSkip, once the retries are spent, the
	// transaction is committed without the events Apply fails on: each is
	// recorded in <Tables>_dead_letters in that same transaction (so it is
	// skipped exactly when the position moves past it), and
	// NewSQLDeadLetters lists them; Handle.ReplayDeadLetters applies them
	// again and removes those that succeed, in one transaction. To tell
	// which event failed, Apply returns a *ReducerError naming it (as
	// EachEvent does); otherwise the events of the transaction are applied
	// one by one to find those that fail. Poison.DeadLetters is not used.
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

// StartSQLPartitions starts the partitions of cfg's projection given by
// indexes (all cfg.Partition.Count of them when none) in database mode, as
// StartPartitions does in memory: they share one stream, and each commits
// its own transactions, with its own position row, in parallel.
func StartSQLPartitions(ctx context.Context, c allsource.CoreClient, cfg SQLConfig, indexes ...int) ([]*Handle[*SQLState], error) {
	if c.API() == nil {
		return nil, errors.New("projection: zero CoreClient (use allsource.NewCoreClient)")
	}
	m, err := newSQLMode(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return startPartitions(ctx, &coreClient{c: c}, m.wcfg, m.worker, indexes...)
}

func startSQL(ctx context.Context, api coreAPI, cfg SQLConfig) (*Handle[*SQLState], *sqlStore, error) {
	m, err := newSQLMode(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	wcfg, setup := m.worker(m.wcfg)
	h, err := startWith(ctx, api, wcfg, setup)
	if err != nil {
		return nil, nil, err
	}
	return h, wcfg.Store.(*sqlStore), nil
}

// sqlMode is a database-mode configuration, checked, with its tables
// created.
type sqlMode struct {
	cfg  SQLConfig
	wcfg Config[*SQLState] // without a Store: worker gives each its own
	// The transaction's retries.
	retries                int
	minBackoff, maxBackoff time.Duration
	names                  sqlTables
	arrays                 bool // the driver takes Go slices as arrays (pgx does)
}

// sqlTables are the names of the worker's tables.
type sqlTables struct {
	positions, versions, partitions, deadLetters string
}

func newSQLMode(ctx context.Context, cfg SQLConfig) (*sqlMode, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if cfg.Tables == "" {
		cfg.Tables = DefaultSQLTables
	}
	switch {
	case cfg.DB == nil:
		return nil, bad("DB is required")
	case cfg.Apply == nil:
		return nil, bad("Apply is required")
	case cfg.Poison.DeadLetters != nil:
		return nil, bad("Poison.DeadLetters is not used in database mode: skipped events go to the %s_dead_letters table", cfg.Tables)
	case cfg.TxEvents < 0:
		return nil, bad("TxEvents is %d; it must not be negative", cfg.TxEvents)
	case !tablePrefix.MatchString(cfg.Tables):
		return nil, bad("Tables %q is not a lowercase SQL name of up to 41 characters", cfg.Tables)
	}
	if cfg.TxEvents == 0 {
		cfg.TxEvents = DefaultTxEvents
	}
	if cfg.TxPeriod == 0 {
		cfg.TxPeriod = DefaultTxPeriod
	}
	m := &sqlMode{cfg: cfg, names: sqlTables{
		positions: cfg.Tables + "_positions", versions: cfg.Tables + "_versions",
		partitions: cfg.Tables + "_partitions", deadLetters: cfg.Tables + "_dead_letters",
	}}
	m.wcfg = Config[*SQLState]{
		Name:       cfg.Name,
		EventTypes: cfg.EventTypes,
		Reducer: func(s *SQLState, ev Event) (*SQLState, error) {
			s.pending = append(s.pending, ev)
			return s, nil
		},
		Initial:          func() *SQLState { return &SQLState{} },
		Store:            &sqlStore{},      // for normalize; worker replaces it
		CheckpointEvents: 2 * cfg.TxEvents, // a checkpoint every TxEvents
		CheckpointPeriod: cfg.TxPeriod,
		MinBackoff:       cfg.MinBackoff,
		MaxBackoff:       cfg.MaxBackoff,
		StallTimeout:     cfg.StallTimeout,
		Partition:        cfg.Partition,
		Poison:           PoisonPolicy{Retries: cfg.Poison.Retries, MinBackoff: cfg.Poison.MinBackoff, MaxBackoff: cfg.Poison.MaxBackoff},
		OnError:          cfg.OnError,
		Logger:           cfg.Logger,
	}
	if err := normalize(&m.wcfg); err != nil {
		return nil, err
	}
	m.retries, m.minBackoff, m.maxBackoff = m.wcfg.Poison.Retries, m.wcfg.Poison.MinBackoff, m.wcfg.Poison.MaxBackoff
	// The transaction's retries are the store's; the worker has nothing to
	// retry per event. Its dead letters are the table's, for
	// ReplayDeadLetters.
	m.wcfg.Poison = PoisonPolicy{DeadLetters: NewSQLDeadLetters(cfg.DB, cfg.Tables)}
	if err := m.createTables(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// worker returns the config of one worker (a partition, or the whole
// projection) with its own store, and the setup that ties the store to the
// worker.
func (m *sqlMode) worker(pc Config[*SQLState]) (Config[*SQLState], func(*worker[*SQLState])) {
	store := &sqlStore{
		db: m.cfg.DB, apply: m.cfg.Apply, sqlTables: m.names, arrays: m.arrays,
		retries: m.retries, minBackoff: m.minBackoff, maxBackoff: m.maxBackoff,
		skip: m.cfg.Poison.Action == PoisonSkip, log: pc.Logger,
	}
	pc.Store = store
	return pc, func(w *worker[*SQLState]) {
		w.syncStore = true
		store.pending = func() *SQLState { return w.eng.state }
		store.skipped = func(n int) { w.eng.stats.skipped.Add(int64(n)) }
	}
}

// sqlStore is the SnapshotStore of a database-mode worker: Load reads the
// committed position and versions, Save commits the pending events with
// them. Save runs on the worker's goroutine (syncStore).
type sqlStore struct {
	db    *sql.DB
	apply func(context.Context, *sql.Tx, []Event) error
	sqlTables
	pending    func() *SQLState
	retries    int
	minBackoff time.Duration
	maxBackoff time.Duration
	// skip is set for PoisonSkip: skipped is told how many events a
	// commit recorded as dead letters.
	skip    bool
	skipped func(n int)
	log     *slog.Logger
	// replaying holds the ids of the dead letters being replayed: the
	// next commit removes them (and records again those that fail).
	replaying []string
	// reskipped is the number of events the last commit recorded as dead
	// letters.
	reskipped int

	// arrays is set when the driver takes Go slices as array parameters
	// (pgx does): versions then go in one statement with unnest.
	arrays bool

	// committed is the position last read or committed: a commit expects
	// to find it in the database.
	committed int64
	found     bool
}

// createTables creates the worker's tables when missing, and finds out
// whether the driver takes Go slices as array parameters.
func (m *sqlMode) createTables(ctx context.Context) error {
	t := m.names
	stmts := []string{`CREATE TABLE IF NOT EXISTS ` + t.positions + ` (
	consumer text PRIMARY KEY,
	position bigint NOT NULL,
	applied bigint NOT NULL,
	event_types text NOT NULL,
	saved_at timestamptz NOT NULL
)`, `CREATE TABLE IF NOT EXISTS ` + t.versions + ` (
	consumer text NOT NULL,
	entity text NOT NULL,
	version bigint NOT NULL,
	PRIMARY KEY (consumer, entity)
)`, `CREATE TABLE IF NOT EXISTS ` + t.partitions + ` (
	projection text PRIMARY KEY,
	partitions integer NOT NULL
)`, `CREATE TABLE IF NOT EXISTS ` + t.deadLetters + ` (
	consumer text NOT NULL,
	event_id text NOT NULL,
	position bigint NOT NULL,
	event text NOT NULL,
	error text NOT NULL,
	at timestamptz NOT NULL,
	PRIMARY KEY (consumer, event_id)
)`}
	for _, q := range stmts {
		if _, err := m.cfg.DB.ExecContext(ctx, q); err != nil {
			// Two processes creating the same table at once: one of them
			// fails on PostgreSQL's catalog; the table is there now.
			if _, err = m.cfg.DB.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("projection: create the worker's tables: %w", err)
			}
		}
	}
	var n int
	m.arrays = m.cfg.DB.QueryRowContext(ctx, `SELECT cardinality($1::text[])`, []string{"a", "b"}).Scan(&n) == nil && n == 2
	return nil
}

// layout reads the number of partitions recorded for the projection name.
func (s *sqlStore) layout(ctx context.Context, name string) (int, bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT partitions FROM `+s.sqlTables.partitions+` WHERE projection = $1`, name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return n, true, nil
}

// setLayout records count for the projection name unless a number is
// recorded already, and returns the number recorded.
func (s *sqlStore) setLayout(ctx context.Context, name string, count int) (int, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO `+s.sqlTables.partitions+` (projection, partitions) VALUES ($1, $2) ON CONFLICT (projection) DO NOTHING`, name, count); err != nil {
		return 0, err
	}
	n, _, err := s.layout(ctx, name)
	return n, err
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
		err = s.commit(ctx, name, snap, st.pending, false)
		if err == nil || errors.Is(err, ErrConcurrentWorker) || !isApplyError(err) {
			break
		}
		if try >= s.retries {
			if s.skip {
				err = s.commit(ctx, name, snap, st.pending, true)
			}
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
	s.replaying = nil
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

// commit commits events, the versions in snap and snap's position in one
// transaction. With skip, the events Apply fails on are recorded as dead
// letters instead, in the same transaction.
func (s *sqlStore) commit(ctx context.Context, name string, snap Snapshot, events []Event, skip bool) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projection: begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	s.reskipped = 0
	if len(s.replaying) > 0 {
		// Dead letters applied again leave the table with the events; any
		// that fails again is recorded anew below.
		if err := s.removeDeadLetters(ctx, tx, name, s.replaying); err != nil {
			return err
		}
	}
	var skipped []DeadLetter
	if skip && len(events) > 0 {
		if skipped, err = s.applySkipping(ctx, tx, name, events); err != nil {
			return err
		}
	} else if len(events) > 0 {
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
			s.recordSkips(skipped)
			return nil
		}
		return fmt.Errorf("projection: commit: %w", err)
	}
	s.committed, s.found = snap.Position, true
	s.recordSkips(skipped)
	return nil
}

// recordSkips reports the dead letters a commit recorded.
func (s *sqlStore) recordSkips(skipped []DeadLetter) {
	s.reskipped = len(skipped)
	if len(skipped) == 0 {
		return
	}
	for _, d := range skipped {
		s.log.Warn("Apply failed; event skipped and recorded as a dead letter", "event", d.Event.ID, "entity", d.Event.EntityID, "err", d.Error)
	}
	if s.skipped != nil {
		s.skipped(len(skipped))
	}
}

// applySkipping applies events through tx, recording each event Apply
// fails on as a dead letter instead, and returns those. Each try runs
// under a savepoint, so that a failed Apply is undone without the rest of
// the transaction. An Apply error that names its event (a *ReducerError)
// skips that event and applies the rest; one that does not makes the
// events be applied one by one.
func (s *sqlStore) applySkipping(ctx context.Context, tx *sql.Tx, name string, events []Event) ([]DeadLetter, error) {
	var skipped []DeadLetter
	try := func(evs []Event) (error, error) {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT projection_apply`); err != nil {
			return nil, fmt.Errorf("projection: savepoint: %w", err)
		}
		aerr := s.apply(ctx, tx, evs)
		q := `RELEASE SAVEPOINT projection_apply`
		if aerr != nil {
			q = `ROLLBACK TO SAVEPOINT projection_apply`
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return aerr, fmt.Errorf("projection: savepoint: %w", err)
		}
		return aerr, nil
	}
	skip := func(ev Event, aerr error) error {
		var re *ReducerError
		if errors.As(aerr, &re) && re.Event.ID == ev.ID {
			aerr = re.Err
		}
		d := DeadLetter{Consumer: name, Event: ev, Error: aerr.Error(), At: time.Now().UTC()}
		if err := s.addDeadLetter(ctx, tx, d); err != nil {
			return err
		}
		skipped = append(skipped, d)
		return nil
	}
	for rest := events; len(rest) > 0; {
		aerr, err := try(rest)
		if err != nil {
			return nil, err
		}
		if aerr == nil {
			break
		}
		k := failedEvent(aerr, rest)
		if k >= 0 {
			// Apply the events before it again (they succeeded), and skip it.
			if k > 0 {
				if perr, err := try(rest[:k]); err != nil {
					return nil, err
				} else if perr != nil {
					k = -1 // they fail now: find out one by one
				}
			}
		}
		if k < 0 {
			for _, ev := range rest {
				aerr, err := try([]Event{ev})
				if err != nil {
					return nil, err
				}
				if aerr != nil {
					if err := skip(ev, aerr); err != nil {
						return nil, err
					}
				}
			}
			break
		}
		if err := skip(rest[k], aerr); err != nil {
			return nil, err
		}
		rest = rest[k+1:]
	}
	return skipped, nil
}

// failedEvent returns the index in events of the event err names (a
// *ReducerError), or -1.
func failedEvent(err error, events []Event) int {
	var re *ReducerError
	if !errors.As(err, &re) || re.Event.ID == "" {
		return -1
	}
	for i := range events {
		if events[i].ID == re.Event.ID {
			return i
		}
	}
	return -1
}

func (s *sqlStore) addDeadLetter(ctx context.Context, tx *sql.Tx, d DeadLetter) error {
	ev, err := json.Marshal(d.Event.Event)
	if err != nil {
		return fmt.Errorf("projection: encode dead letter: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO `+s.deadLetters+` (consumer, event_id, position, event, error, at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (consumer, event_id) DO UPDATE SET position = EXCLUDED.position, event = EXCLUDED.event, error = EXCLUDED.error, at = EXCLUDED.at`,
		d.Consumer, d.Event.ID, d.Event.Position, string(ev), d.Error, d.At)
	if err != nil {
		return fmt.Errorf("projection: record dead letter: %w", err)
	}
	return nil
}

func (s *sqlStore) removeDeadLetters(ctx context.Context, tx *sql.Tx, consumer string, ids []string) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+s.deadLetters+` WHERE consumer = $1 AND event_id = $2`, consumer, id); err != nil {
			return fmt.Errorf("projection: remove dead letter: %w", err)
		}
	}
	return nil
}

// SQLDeadLetters is the DeadLetterStore of the database mode: the table
// <Tables>_dead_letters, where a worker with PoisonSkip records, in the
// transaction that moves its position past them, the events its Apply
// failed on. Use it to list them; Handle.ReplayDeadLetters applies them
// again.
type SQLDeadLetters struct {
	db    *sql.DB
	table string
}

// NewSQLDeadLetters returns the dead letters of the database-mode workers
// whose SQLConfig has DB db and Tables tables ("" for DefaultSQLTables).
func NewSQLDeadLetters(db *sql.DB, tables string) *SQLDeadLetters {
	if tables == "" {
		tables = DefaultSQLTables
	}
	return &SQLDeadLetters{db: db, table: tables + "_dead_letters"}
}

// Add records d (outside any worker's transaction).
func (s *SQLDeadLetters) Add(ctx context.Context, d DeadLetter) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := (&sqlStore{sqlTables: sqlTables{deadLetters: s.table}}).addDeadLetter(ctx, tx, d); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
	return nil
}

// List returns the dead letters of consumer, oldest first.
func (s *SQLDeadLetters) List(ctx context.Context, consumer string) ([]DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT event, position, error, at FROM `+s.table+` WHERE consumer = $1 ORDER BY at, position`, consumer)
	if err != nil {
		return nil, fmt.Errorf("projection: dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var ev string
		d := DeadLetter{Consumer: consumer}
		if err := rows.Scan(&ev, &d.Event.Position, &d.Error, &d.At); err != nil {
			return nil, fmt.Errorf("projection: dead letters: %w", err)
		}
		if err := json.Unmarshal([]byte(ev), &d.Event.Event); err != nil {
			return nil, fmt.Errorf("projection: dead letters: decode event: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projection: dead letters: %w", err)
	}
	return out, nil
}

// Remove forgets the dead letter of consumer for eventID.
func (s *SQLDeadLetters) Remove(ctx context.Context, consumer, eventID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+s.table+` WHERE consumer = $1 AND event_id = $2`, consumer, eventID); err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
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
