package coretest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// DefaultStreamBuffer is the number of live events buffered per WebSocket
// client before it is sent a lagged notice; real Core's broadcast channel
// has this capacity.
const DefaultStreamBuffer = 1000

// config is what the Options set.
type config struct {
	keys          map[string]string // API key -> tenant
	devMode       bool
	ratePerMinute int
	rateBurst     int
	dataDir       string
	batchInterval time.Duration
	batchMax      int
	streamBuffer  int
	follower      bool
	specReport    func(error)
	strictReqs    bool
	logger        *slog.Logger
	now           func() time.Time
}

// Option configures a Server.
type Option func(*config)

// WithAPIKeys accepts each key, as a bearer token or X-API-Key, for the
// tenant "default". Without keys and without WithDevMode every
// authenticated request is refused with 401.
func WithAPIKeys(keys ...string) Option {
	return func(c *config) {
		for _, k := range keys {
			c.keys[k] = "default"
		}
	}
}

// WithTenantAPIKey accepts key for tenant: queries that name no tenant_id
// read that tenant, and rate limits are counted for it.
func WithTenantAPIKey(key, tenant string) Option {
	return func(c *config) { c.keys[key] = tenant }
}

// WithDevMode serves requests without credentials as the tenant
// "dev-tenant" and turns rate limiting off, like ALLSOURCE_DEV_MODE
// (reference §2.1). Valid keys are still honoured.
func WithDevMode() Option {
	return func(c *config) { c.devMode = true }
}

// WithRateLimit limits each tenant to perMinute requests per minute with
// bursts of up to burst requests (a token bucket, reference §2.1). Zero
// perMinute disables the limit, which is the default.
func WithRateLimit(perMinute, burst int) Option {
	return func(c *config) {
		c.ratePerMinute = perMinute
		c.rateBurst = max(burst, 1)
	}
}

// WithDataDir keeps events, consumer cursors and the projection state store
// in append-only files under dir, so they survive a restart. Each response
// is sent after its writes reached the operating system; files are synced to
// disk on Close. Without it everything lives in memory only.
func WithDataDir(dir string) Option {
	return func(c *config) { c.dataDir = dir }
}

// WithLiveBatching makes WebSocket clients receive live events as JSON
// arrays, flushed every interval or when max events are pending, like Core
// started with batch_interval_ms (reference §5.7). max <= 0 means 100.
func WithLiveBatching(interval time.Duration, max int) Option {
	return func(c *config) {
		c.batchInterval = interval
		if max <= 0 {
			max = 100
		}
		c.batchMax = max
	}
}

// WithStreamBuffer sets how many live events are buffered per WebSocket
// client; a client that falls further behind loses events and receives
// {"type":"lagged","missed":N}. The default is DefaultStreamBuffer.
func WithStreamBuffer(n int) Option {
	return func(c *config) { c.streamBuffer = max(n, 1) }
}

// WithFollower makes the server act as a read-only follower: writes are
// refused with 409 read_only (reference §2.1).
func WithFollower() Option {
	return func(c *config) { c.follower = true }
}

// WithSpecValidation validates every request received and every response
// sent against the OpenAPI documents in spec/ and calls report with each
// violation. report may be called from several goroutines at once.
func WithSpecValidation(report func(error)) Option {
	return func(c *config) { c.specReport = report }
}

// WithStrictRequests makes spec validation report every request that
// breaks the spec, also those the server refuses. By default a request
// violation is reported only when the server accepted the request, so
// that tests can send deliberately bad requests.
func WithStrictRequests() Option {
	return func(c *config) { c.strictReqs = true }
}

// WithLogger logs each request at debug level and server problems at
// error level. Credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithClock replaces the clock that stamps ingested events; timestamps
// still strictly increase.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// Server is an in-memory AllSource Core and Query Service.
type Server struct {
	// URL is the base URL of the Core endpoints, for example
	// "http://127.0.0.1:39001".
	URL string

	cfg         config
	store       *store
	hub         *hub
	consumers   *consumerRegistry
	projections *projectionStore
	faults      *faults
	limiter     *rateLimiter // Core's buckets
	qsLimiter   *rateLimiter // the Query Service's own buckets
	persist     *persister
	specs       *specValidator

	handlers  handlerTracker
	streamsMu sync.Mutex
	streams   map[*streamConn]struct{}

	ctx       context.Context
	cancel    context.CancelFunc
	coreSrv   *http.Server
	querySrv  *http.Server
	queryURL  string
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// NewServer starts a server on 127.0.0.1 with a random port for Core and
// another for the Query Service, like httptest.NewServer. It panics when it
// cannot listen or cannot load its data directory. Call Close when done.
func NewServer(opts ...Option) *Server {
	s, err := Listen("127.0.0.1:0", "127.0.0.1:0", opts...)
	if err != nil {
		panic(fmt.Sprintf("coretest: %v", err))
	}
	return s
}

// NewTestServer starts a server for the test t, validates every request and
// response against spec/ (a violation fails t), and closes the server when t
// ends. Options may override the validation report.
func NewTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	all := append([]Option{WithSpecValidation(func(err error) {
		t.Errorf("coretest: spec violation: %v", err)
	})}, opts...)
	s, err := Listen("127.0.0.1:0", "127.0.0.1:0", all...)
	if err != nil {
		t.Fatalf("coretest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("coretest: close: %v", err)
		}
	})
	return s
}

// Listen starts a server with Core on coreAddr and the Query Service on
// queryAddr (no Query Service listener when queryAddr is empty).
func Listen(coreAddr, queryAddr string, opts ...Option) (*Server, error) {
	coreLn, err := net.Listen("tcp", coreAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", coreAddr, err)
	}
	var queryLn net.Listener
	if queryAddr != "" {
		if queryLn, err = net.Listen("tcp", queryAddr); err != nil {
			_ = coreLn.Close()
			return nil, fmt.Errorf("listen on %s: %w", queryAddr, err)
		}
	}
	return Serve(coreLn, queryLn, opts...)
}

// Serve starts a server that serves Core on coreLn and the Query Service on
// queryLn (none when queryLn is nil). The server owns the listeners and
// closes them, also when it fails to start.
func Serve(coreLn, queryLn net.Listener, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		_ = coreLn.Close()
		if queryLn != nil {
			_ = queryLn.Close()
		}
		return nil, err
	}
	s.URL = "http://" + coreLn.Addr().String()
	s.coreSrv = s.newHTTPServer(s.coreHandler())
	s.serve(s.coreSrv, coreLn)
	if queryLn != nil {
		s.queryURL = "http://" + queryLn.Addr().String()
		s.querySrv = s.newHTTPServer(s.queryHandler())
		s.serve(s.querySrv, queryLn)
	}
	return s, nil
}

// newServer builds a server that is not yet serving: its store, loaded
// from the data directory when there is one, and its spec validator.
func newServer(opts []Option) (*Server, error) {
	cfg := config{
		keys:         make(map[string]string),
		streamBuffer: DefaultStreamBuffer,
		now:          time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, streams: make(map[*streamConn]struct{})}
	s.store = newStore(cfg.now)
	s.hub = newHub()
	s.consumers = newConsumerRegistry()
	s.projections = newProjectionStore()
	s.faults = newFaults()
	s.limiter = newRateLimiter(cfg.ratePerMinute, cfg.rateBurst, time.Now)
	s.qsLimiter = newRateLimiter(cfg.ratePerMinute, cfg.rateBurst, time.Now)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.specReport != nil {
		v, err := newSpecValidator(cfg.specReport)
		if err != nil {
			s.cancel()
			return nil, err
		}
		s.specs = v
	}
	if cfg.dataDir != "" {
		p, err := openPersister(cfg.dataDir, s)
		if err != nil {
			s.cancel()
			return nil, err
		}
		s.persist = p
	}
	return s, nil
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ErrorLog:          slog.NewLogLogger(s.cfg.logger.Handler(), slog.LevelDebug),
	}
}

func (s *Server) serve(srv *http.Server, ln net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.logger.Error("coretest: serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// QueryURL returns the base URL of the Query Service endpoints, or "" when
// the server has no Query Service listener.
func (s *Server) QueryURL() string { return s.queryURL }

// Close stops the server at once: listeners and connections are closed,
// WebSocket streams end, and the data directory is synced and closed.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.hub.dropAll()
		s.cancel()
		var errs []error
		if err := s.coreSrv.Close(); err != nil {
			errs = append(errs, err)
		}
		if s.querySrv != nil {
			if err := s.querySrv.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		s.hub.closeAll()
		s.handlers.closeAndWait()
		s.wg.Wait()
		if err := s.closePersist(); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Shutdown stops accepting connections, waits for in-flight HTTP requests
// until ctx ends, ends WebSocket streams, and then closes the server.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	s.cancel() // streams end with a going-away close frame
	if err := s.hub.wait(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.coreSrv.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	if s.querySrv != nil {
		if err := s.querySrv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) closePersist() error {
	if s.persist == nil {
		return nil
	}
	return s.persist.close()
}
