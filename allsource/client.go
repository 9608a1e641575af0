package allsource

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/gen/query"
	"github.com/allsource-go/allsource/runtime"
)

// Default base URLs of the two services.
const (
	// DefaultCoreURL is where Core listens by default: inside the caller's
	// network, one hop, no gateway.
	DefaultCoreURL = "http://localhost:3900"
	// DefaultQueryURL is where the Query Service listens by default: the
	// path from outside, which enforces rate limits and quotas.
	DefaultQueryURL = "http://localhost:3902"
)

// Environment variables read by NewCoreClientFromEnv and
// NewQueryClientFromEnv.
const (
	EnvURL      = "ALLSOURCE_URL"       // base URL of Core
	EnvQueryURL = "ALLSOURCE_QUERY_URL" // base URL of the Query Service
	EnvAPIKey   = "ALLSOURCE_API_KEY"   // API key
)

// Option configures a client when passed to NewCoreClient or
// NewQueryClient, or one call when passed to a method: the same options
// serve both, the call's applied over the client's (as openai-go's request
// options do). Options that only make sense for a whole client say so, and
// a call given one fails with ErrInvalidArgument.
type Option func(*settings)

// settings is what the Options set.
type settings struct {
	runtime    []runtime.Option
	normalize  bool
	keyHeader  bool
	pageSize   int64
	tenant     string
	batchBytes int
	perCall    bool   // the options are a call's
	clientOnly string // a client-only option given per call
	err        error
}

// DefaultBatchBytes is the default byte budget of one batch request
// (IngestBatch, PutProjectionStates): under Core's 2 MiB limit on JSON
// bodies, and within the 1 MiB the gateway allows batches.
const DefaultBatchBytes = 1 << 20

// minBatchBytes is the smallest budget WithBatchBytes accepts: room for the
// envelope and a small item.
const minBatchBytes = 256

// WithRuntimeOptions passes options to the runtime under the client:
// anything the runtime package offers that this package does not wrap.
// Per call, they apply to that call.
func WithRuntimeOptions(opts ...runtime.Option) Option {
	return func(s *settings) { s.runtime = append(s.runtime, opts...) }
}

// WithMaxRetries sets how many times a failed attempt may be retried (0:
// never); the default is 3.
func WithMaxRetries(n int) Option { return WithRuntimeOptions(runtime.WithMaxRetries(n)) }

// WithRetry sets the whole retry policy (see runtime.RetryPolicy).
func WithRetry(p runtime.RetryPolicy) Option { return WithRuntimeOptions(runtime.WithRetry(p)) }

// WithTimeout bounds a whole call, every attempt and the waits between them
// included.
func WithTimeout(d time.Duration) Option { return WithRuntimeOptions(runtime.WithTimeout(d)) }

// WithAttemptTimeout bounds each attempt of a call.
func WithAttemptTimeout(d time.Duration) Option {
	return WithRuntimeOptions(runtime.WithAttemptTimeout(d))
}

// WithHTTPClient sends requests through hc.
func WithHTTPClient(hc *http.Client) Option { return WithRuntimeOptions(runtime.WithHTTPClient(hc)) }

// WithHeader adds a header to every request.
func WithHeader(key, value string) Option { return WithRuntimeOptions(runtime.WithHeader(key, value)) }

// WithCircuitBreaker sends requests through b, which several clients may
// share; nil turns the breaker off.
func WithCircuitBreaker(b *runtime.CircuitBreaker) Option {
	return WithRuntimeOptions(runtime.WithCircuitBreaker(b))
}

// WithTokenSource authenticates with a bearer token asked of ts before
// every attempt, replacing the API key.
func WithTokenSource(ts runtime.TokenSource) Option {
	return WithRuntimeOptions(runtime.WithTokenSource(ts))
}

// WithLogger logs attempts, retries and breaker changes at debug level,
// never credentials or bodies.
func WithLogger(l *slog.Logger) Option { return WithRuntimeOptions(runtime.WithLogger(l)) }

// WithMiddleware wraps each attempt (see runtime.Middleware).
func WithMiddleware(mw ...runtime.Middleware) Option {
	return WithRuntimeOptions(runtime.WithMiddleware(mw...))
}

// WithResponseInto stores the last HTTP response of a call in *dst (per
// call).
func WithResponseInto(dst **http.Response) Option {
	return WithRuntimeOptions(runtime.WithResponseInto(dst))
}

// WithNormalizedEventTypes rewrites event types with NormalizeEventType
// before validating and sending them ("OrderPlaced" becomes
// "order.placed"), as the official Rust SDK always does. Without it, event
// types are sent as given and rejected when Core would refuse them.
func WithNormalizedEventTypes() Option {
	return func(s *settings) { s.normalize = true }
}

// WithLegacyAPIKeyHeader sends the API key in the legacy X-API-Key header
// instead of "Authorization: Bearer". It applies to a client only.
func WithLegacyAPIKeyHeader() Option {
	return func(s *settings) {
		s.keyHeader = true
		if s.perCall {
			s.clientOnly = "WithLegacyAPIKeyHeader"
		}
	}
}

// WithPageSize sets how many items each page request of an iterator
// (Events, Entities, ProjectionStateSummaries) asks for. The default is
// 500.
func WithPageSize(n int64) Option {
	return func(s *settings) {
		if n <= 0 && s.err == nil {
			s.err = &ArgumentError{Field: "page size", Value: fmt.Sprint(n), Reason: "must be positive"}
		}
		s.pageSize = n
	}
}

// WithTenant scopes writes and reads alike to tenant: events ingested
// without a TenantID and queries without one use it. Without it Core puts
// such events in the tenant "default" and reads the tenant of the
// credentials (in dev mode "dev-tenant"), so a program can fail to find
// the events it just wrote. Core does not scope entities, consumers or the
// projection store by tenant, so it does not apply to them. The Query
// Service takes the tenant from the API key: a QueryClient refuses it.
func WithTenant(tenant string) Option {
	return func(s *settings) {
		if err := ValidateTenantID(tenant); err != nil && s.err == nil {
			s.err = err
		}
		s.tenant = tenant
	}
}

// WithBatchBytes sets the byte budget of one request of IngestBatch and
// PutProjectionStates, which split larger input into several requests.
// The default is DefaultBatchBytes; Core refuses bodies over 2 MiB.
func WithBatchBytes(n int) Option {
	return func(s *settings) {
		if n < minBatchBytes && s.err == nil {
			s.err = &ArgumentError{Field: "batch bytes", Value: fmt.Sprint(n), Reason: fmt.Sprintf("must be at least %d", minBatchBytes)}
		}
		s.batchBytes = n
	}
}

func newSettings(apiKey string, opts []Option) (*settings, []runtime.Option, error) {
	s := &settings{pageSize: 500, batchBytes: DefaultBatchBytes}
	for _, o := range opts {
		o(s)
	}
	if s.err != nil {
		return nil, nil, s.err
	}
	rt := make([]runtime.Option, 0, len(s.runtime)+1)
	if apiKey != "" {
		if s.keyHeader {
			rt = append(rt, core.WithAPIKeyAuth(apiKey))
		} else {
			rt = append(rt, runtime.WithBearerToken(apiKey))
		}
	}
	// Caller options last, so that (say) WithTokenSource overrides the key.
	rt = append(rt, s.runtime...)
	s.runtime = nil
	return s, rt, nil
}

// call returns the settings of one call: the client's with opts applied
// over them. Its runtime holds the call's runtime options only (the
// client's are in the generated client already).
func (s *settings) call(opts []Option) (*settings, error) {
	if s == nil {
		return nil, errZeroClient
	}
	if len(opts) == 0 {
		return s, nil
	}
	c := *s
	c.runtime, c.perCall = nil, true
	for _, o := range opts {
		o(&c)
	}
	if c.err != nil {
		return nil, c.err
	}
	if c.clientOnly != "" {
		return nil, &ArgumentError{Field: "option", Value: c.clientOnly, Reason: "applies to a client, not to a call"}
	}
	return &c, nil
}

// errZeroClient is returned by every method of a client that was not made
// by its constructor.
var errZeroClient = fmt.Errorf("allsource: client not initialised: create it with NewCoreClient or NewQueryClient: %w", ErrInvalidArgument)

// CoreClient calls AllSource Core. It is cheap to copy and safe for
// concurrent use; copies share one connection pool and circuit breaker.
// Core trusts its caller: use it inside your network, never over the
// public internet.
//
// The zero CoreClient is not usable: its methods return an error matching
// ErrInvalidArgument. Create one with NewCoreClient.
type CoreClient struct {
	api *core.Client
	cfg *settings
}

// NewCoreClient returns a client for the Core at baseURL (DefaultCoreURL
// when empty), authenticating with apiKey (none when empty, for a server in
// dev mode).
func NewCoreClient(baseURL, apiKey string, opts ...Option) (CoreClient, error) {
	if baseURL == "" {
		baseURL = DefaultCoreURL
	}
	cfg, rtOpts, err := newSettings(apiKey, opts)
	if err != nil {
		return CoreClient{}, err
	}
	api, err := core.NewClient(baseURL, rtOpts...)
	if err != nil {
		return CoreClient{}, fmt.Errorf("allsource: core client: %w", err)
	}
	return CoreClient{api: api, cfg: cfg}, nil
}

// NewCoreClientFromEnv returns a client configured from ALLSOURCE_URL and
// ALLSOURCE_API_KEY, then opts.
func NewCoreClientFromEnv(opts ...Option) (CoreClient, error) {
	return NewCoreClient(strings.TrimSpace(os.Getenv(EnvURL)), strings.TrimSpace(os.Getenv(EnvAPIKey)), opts...)
}

// API returns the generated client with every Core operation, for calls
// this layer does not wrap (nil for the zero CoreClient).
func (c CoreClient) API() *core.Client { return c.api }

// QueryClient calls the AllSource Query Service, the path from outside the
// network, which enforces rate limits and quotas. It serves event queries
// and health only: list entities and detect duplicates on a CoreClient. It is
// cheap to copy and safe for concurrent use.
//
// The zero QueryClient is not usable: its methods return an error matching
// ErrInvalidArgument. Create one with NewQueryClient.
type QueryClient struct {
	api *query.Client
	cfg *settings
}

// NewQueryClient returns a client for the Query Service at baseURL
// (DefaultQueryURL when empty), authenticating with apiKey. The Query
// Service reads the key from X-API-Key when present, else from
// "Authorization: Bearer".
func NewQueryClient(baseURL, apiKey string, opts ...Option) (QueryClient, error) {
	if baseURL == "" {
		baseURL = DefaultQueryURL
	}
	cfg, rtOpts, err := newSettings(apiKey, opts)
	if err != nil {
		return QueryClient{}, err
	}
	if cfg.tenant != "" {
		return QueryClient{}, errQueryTenant
	}
	api, err := query.NewClient(baseURL, rtOpts...)
	if err != nil {
		return QueryClient{}, fmt.Errorf("allsource: query client: %w", err)
	}
	return QueryClient{api: api, cfg: cfg}, nil
}

// NewQueryClientFromEnv returns a client configured from
// ALLSOURCE_QUERY_URL and ALLSOURCE_API_KEY, then opts.
func NewQueryClientFromEnv(opts ...Option) (QueryClient, error) {
	return NewQueryClient(strings.TrimSpace(os.Getenv(EnvQueryURL)), strings.TrimSpace(os.Getenv(EnvAPIKey)), opts...)
}

// API returns the generated client with every Query Service operation.
func (c QueryClient) API() *query.Client { return c.api }

// errQueryTenant refuses WithTenant on a QueryClient.
var errQueryTenant = &ArgumentError{Field: "tenant", Reason: "the Query Service scopes every request to the API key's tenant"}
