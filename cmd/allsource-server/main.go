// Command allsource-server serves the in-memory AllSource Core and Query
// Service of package coretest on real addresses, for demos and for trying
// clients by hand.
//
// Usage:
//
//	allsource-server [-addr 127.0.0.1:3900] [-query-addr 127.0.0.1:3902]
//	                 [-api-key KEY]... [-dev] [-rate-limit N] [-rate-burst N]
//	                 [-data-dir DIR] [-batch-interval D] [-follower] [-v]
//
// Keys come from -api-key (repeatable, or a comma-separated list) and from
// the ALLSOURCE_API_KEY environment variable. Without a key, -dev is
// required: requests without credentials are then served as the tenant
// "dev-tenant". The server stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/allsource-go/allsource/coretest"
)

// keyList is a repeatable flag of API keys.
type keyList []string

func (k *keyList) String() string { return fmt.Sprintf("%d keys", len(*k)) }

func (k *keyList) Set(v string) error {
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*k = append(*k, part)
		}
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv("ALLSOURCE_API_KEY"), os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "allsource-server:", err)
		stop()
		os.Exit(1)
	}
}

// welcome is the start-up message that leads a newcomer to a working
// client: the URL, the tenant trap of dev mode and the quick start.
func welcome(url string, dev, keys bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nAllSource Core (in memory) is listening on %s\n", url)
	if dev {
		b.WriteString("Dev mode: requests without an API key are served as the tenant \"dev-tenant\".\n")
	}
	if keys {
		b.WriteString("Clients authenticate with one of the API keys given (set ALLSOURCE_API_KEY).\n")
	}
	b.WriteString("Events sent without a tenant are stored in \"default\", while queries without one read the\n" +
		"caller's tenant: give the client one tenant for both, for example\n")
	fmt.Fprintf(&b, "\n\tcore, err := allsource.NewCoreClient(%q, os.Getenv(\"ALLSOURCE_API_KEY\"), allsource.WithTenant(\"quickstart\"))\n\n", url)
	fmt.Fprintf(&b, "Try it: ALLSOURCE_URL=%s go run ./examples/quickstart\n\n", url)
	return b.String()
}

// run serves until ctx ends, then shuts down. envKeys is the value of
// ALLSOURCE_API_KEY; logs go to stderr.
func run(ctx context.Context, args []string, envKeys string, stderr io.Writer) error {
	fs := flag.NewFlagSet("allsource-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3900", "listen address of the Core endpoints")
	queryAddr := fs.String("query-addr", "127.0.0.1:3902", "listen address of the Query Service endpoints; empty for none")
	var keys keyList
	fs.Var(&keys, "api-key", "accepted API key (repeatable or comma-separated; also $ALLSOURCE_API_KEY)")
	dev := fs.Bool("dev", false, "dev mode: requests without credentials are accepted, no rate limit")
	rate := fs.Int("rate-limit", 0, "requests per minute per tenant; 0 for no limit")
	burst := fs.Int("rate-burst", 0, "burst of the rate limit; 0 means the per-minute figure")
	dataDir := fs.String("data-dir", "", "directory that keeps events, consumer cursors and projection state across restarts; empty keeps everything in memory")
	batch := fs.Duration("batch-interval", 0, "send live WebSocket events in batches (JSON arrays) flushed at this interval; 0 for one frame per event")
	follower := fs.Bool("follower", false, "act as a read-only follower: writes get 409 read_only")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if envKeys != "" {
		_ = keys.Set(envKeys)
	}
	if len(keys) == 0 && !*dev {
		return errors.New("no API key: pass -api-key KEY (or set ALLSOURCE_API_KEY), or -dev")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	opts := []coretest.Option{coretest.WithAPIKeys(keys...), coretest.WithLogger(logger)}
	if *dev {
		opts = append(opts, coretest.WithDevMode())
	}
	if *rate > 0 {
		b := *burst
		if b <= 0 {
			b = *rate
		}
		opts = append(opts, coretest.WithRateLimit(*rate, b))
	}
	if *dataDir != "" {
		opts = append(opts, coretest.WithDataDir(*dataDir))
	}
	if *batch > 0 {
		opts = append(opts, coretest.WithLiveBatching(*batch, 100))
	}
	if *follower {
		opts = append(opts, coretest.WithFollower())
	}
	srv, err := coretest.Listen(*addr, *queryAddr, opts...)
	if err != nil {
		return err
	}
	logger.Info("serving", "core", srv.URL, "query", srv.QueryURL(), "keys", len(keys),
		"dev", *dev, "data_dir", *dataDir, "rate_limit", *rate)
	fmt.Fprint(stderr, welcome(srv.URL, *dev, len(keys) > 0))

	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
