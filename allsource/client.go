package allsource

import (
	"errors"
	"fmt"
	"os"
	"strings"

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

// Option configures a CoreClient or a QueryClient.
type Option func(*clientConfig)

type clientConfig struct {
	runtime   []runtime.Option
	normalize bool
	keyHeader bool
	pageSize  int64
}

// WithRuntimeOptions passes options to the runtime under the client:
// retries, circuit breaker, timeouts, a custom *http.Client, a logger,
// middleware (see the runtime package).
func WithRuntimeOptions(opts ...runtime.Option) Option {
	return func(c *clientConfig) { c.runtime = append(c.runtime, opts...) }
}

// WithNormalizedEventTypes rewrites event types with NormalizeEventType
// before validating and sending them ("OrderPlaced" becomes
// "order.placed"), as the official Rust SDK always does. Without it, event
// types are sent as given and rejected when Core would refuse them.
func WithNormalizedEventTypes() Option {
	return func(c *clientConfig) { c.normalize = true }
}

// WithAPIKeyHeader sends the API key in the legacy X-API-Key header instead
// of "Authorization: Bearer".
func WithAPIKeyHeader() Option {
	return func(c *clientConfig) { c.keyHeader = true }
}

// WithPageSize sets how many items each page request of an iterator
// (Events, Entities) asks for. The default is 500.
func WithPageSize(n int64) Option {
	return func(c *clientConfig) { c.pageSize = n }
}

func newConfig(apiKey string, opts []Option) (*clientConfig, []runtime.Option, error) {
	cfg := &clientConfig{pageSize: 500}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.pageSize <= 0 {
		return nil, nil, errors.New("allsource: page size must be positive")
	}
	rt := make([]runtime.Option, 0, len(cfg.runtime)+1)
	if apiKey != "" {
		if cfg.keyHeader {
			rt = append(rt, runtime.WithAPIKeyHeader(runtime.HeaderAPIKey, apiKey))
		} else {
			rt = append(rt, runtime.WithBearerToken(apiKey))
		}
	}
	// Caller options last, so that (say) WithTokenSource overrides the key.
	rt = append(rt, cfg.runtime...)
	return cfg, rt, nil
}

// CoreClient calls AllSource Core. It is cheap to copy and safe for
// concurrent use; copies share one connection pool and circuit breaker.
// Core trusts its caller: use it inside your network, never over the
// public internet.
type CoreClient struct {
	api *core.Client
	cfg *clientConfig
}

// NewCoreClient returns a client for the Core at baseURL (DefaultCoreURL
// when empty), authenticating with apiKey (none when empty, for a server in
// dev mode).
func NewCoreClient(baseURL, apiKey string, opts ...Option) (CoreClient, error) {
	if baseURL == "" {
		baseURL = DefaultCoreURL
	}
	cfg, rtOpts, err := newConfig(apiKey, opts)
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
// this layer does not wrap.
func (c CoreClient) API() *core.Client { return c.api }

// QueryClient calls the AllSource Query Service, the path from outside the
// network, which enforces rate limits and quotas. It serves event queries
// and health only: list entities and detect duplicates on a CoreClient. It is
// cheap to copy and safe for concurrent use.
type QueryClient struct {
	api *query.Client
	cfg *clientConfig
}

// NewQueryClient returns a client for the Query Service at baseURL
// (DefaultQueryURL when empty), authenticating with apiKey. The Query
// Service reads the key from X-API-Key when present, else from
// "Authorization: Bearer".
func NewQueryClient(baseURL, apiKey string, opts ...Option) (QueryClient, error) {
	if baseURL == "" {
		baseURL = DefaultQueryURL
	}
	cfg, rtOpts, err := newConfig(apiKey, opts)
	if err != nil {
		return QueryClient{}, err
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
