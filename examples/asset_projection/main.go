// Command asset_projection keeps a read model of assets by symbol with the
// projection worker, folding asset.registered, asset.updated and
// exchange_mapping.set events, and shows that it survives a restart: it
// stops the worker, writes more events, and starts it again from its
// snapshot, which replays only what it missed.
//
// With ALLSOURCE_URL (and ALLSOURCE_API_KEY) set it runs against that Core;
// otherwise it starts the embedded in-memory Core.
//
//	go run ./examples/asset_projection [-snapshots dir] [-consumer name]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/projection"
)

// Asset is the read model of one asset.
type Asset struct {
	ID        string            `json:"id"`
	Symbol    string            `json:"symbol"`
	Name      string            `json:"name"`
	Class     string            `json:"class"`
	Exchanges map[string]string `json:"exchanges,omitempty"` // exchange -> ticker
	Version   int64             `json:"version"`
}

// Assets is the worker's state: assets by symbol, and each asset's symbol
// by asset id (events name the asset by id).
type Assets struct {
	BySymbol map[string]*Asset `json:"by_symbol"`
	SymbolOf map[string]string `json:"symbol_of"`
}

func newAssets() Assets {
	return Assets{BySymbol: map[string]*Asset{}, SymbolOf: map[string]string{}}
}

type registered struct {
	Symbol string `json:"symbol"`
	Name   string `json:"name"`
	Class  string `json:"class"`
}

type updated struct {
	Name  *string `json:"name"`
	Class *string `json:"class"`
}

type mappingSet struct {
	Exchange string `json:"exchange"`
	Ticker   string `json:"ticker"`
}

// reduce folds one event into the assets.
func reduce(s Assets, ev projection.Event) (Assets, error) {
	switch ev.EventType {
	case "asset.registered":
		p, err := projection.Decode[registered](ev)
		if err != nil {
			return s, err
		}
		s.BySymbol[p.Symbol] = &Asset{ID: ev.EntityID, Symbol: p.Symbol, Name: p.Name, Class: p.Class, Version: ev.Version}
		s.SymbolOf[ev.EntityID] = p.Symbol
		return s, nil
	}
	a := s.BySymbol[s.SymbolOf[ev.EntityID]]
	if a == nil {
		return s, fmt.Errorf("%s for unregistered asset %q", ev.EventType, ev.EntityID)
	}
	switch ev.EventType {
	case "asset.updated":
		p, err := projection.Decode[updated](ev)
		if err != nil {
			return s, err
		}
		if p.Name != nil {
			a.Name = *p.Name
		}
		if p.Class != nil {
			a.Class = *p.Class
		}
	case "exchange_mapping.set":
		p, err := projection.Decode[mappingSet](ev)
		if err != nil {
			return s, err
		}
		if a.Exchanges == nil {
			a.Exchanges = map[string]string{}
		}
		a.Exchanges[p.Exchange] = p.Ticker
	}
	a.Version = ev.Version
	return s, nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "asset_projection:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("asset_projection", flag.ContinueOnError)
	snapshots := fs.String("snapshots", "", "directory for the worker's snapshots (default: a new temporary directory)")
	consumer := fs.String("consumer", "", "durable consumer name (default: asset-projection-<unix time>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()

	c, closeServer, err := connect(out)
	if err != nil {
		return err
	}
	defer closeServer()
	if *snapshots == "" {
		dir, err := os.MkdirTemp("", "asset-projection-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*snapshots = dir
	}
	if *consumer == "" {
		*consumer = fmt.Sprintf("asset-projection-%d", time.Now().Unix())
	}
	// Asset ids are per run, so that runs against a shared Core do not meet
	// each other's assets.
	run := time.Now().Format("150405")
	id := func(sym string) string { return "asset-" + strings.ToLower(sym) + "-" + run }

	cfg := projection.Config[Assets]{
		Name:       *consumer,
		EventTypes: []string{"asset.registered", "asset.updated", "exchange_mapping.set"},
		Reducer:    reduce,
		Initial:    newAssets,
		Store:      projection.NewFileStore(*snapshots),
		Push: &projection.Push[Assets]{
			Projection: *consumer,
			Entities: func(s Assets, touched []string) []projection.EntityState {
				var out []projection.EntityState
				for _, assetID := range touched {
					if a := s.BySymbol[s.SymbolOf[assetID]]; a != nil {
						out = append(out, projection.EntityState{EntityID: assetID, State: a})
					}
				}
				return out
			},
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}

	fmt.Fprintln(out, "1. writing the first asset events")
	if err := ingest(ctx, c,
		event(id("BTC"), "asset.registered", registered{"BTC", "Bitcoin", "crypto"}),
		event(id("ETH"), "asset.registered", registered{"ETH", "Ethereum", "crypto"}),
		event(id("BTC"), "exchange_mapping.set", mappingSet{"kraken", "XBT/USD"}),
		event(id("ETH"), "exchange_mapping.set", mappingSet{"coinbase", "ETH-USD"}),
	); err != nil {
		return err
	}

	fmt.Fprintln(out, "2. starting the worker: it replays them, then goes live")
	h, err := projection.Start(ctx, c, cfg)
	if err != nil {
		return err
	}
	if err := waitCaughtUp(ctx, h); err != nil {
		return err
	}
	if err := ingest(ctx, c, event(id("BTC"), "exchange_mapping.set", mappingSet{"binance", "BTCUSDT"})); err != nil {
		return err
	}
	if err := waitFor(h, func(s Assets) bool { return s.BySymbol["BTC"] != nil && s.BySymbol["BTC"].Exchanges["binance"] != "" }); err != nil {
		return err
	}
	printAssets(out, h, "live state")

	fmt.Fprintln(out, "3. stopping the worker: last snapshot, then the consumer's cursor is acknowledged")
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = h.Stop(stopCtx)
	cancel()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   stopped at position %d\n", h.Stats().Position)

	fmt.Fprintln(out, "4. writing more events while it is down")
	name := "Ether"
	if err := ingest(ctx, c,
		event(id("SOL"), "asset.registered", registered{"SOL", "Solana", "crypto"}),
		event(id("ETH"), "asset.updated", updated{Name: &name}),
		event(id("SOL"), "exchange_mapping.set", mappingSet{"kraken", "SOL/USD"}),
	); err != nil {
		return err
	}

	fmt.Fprintln(out, "5. restarting from the snapshot: only the missed events are replayed")
	h, err = projection.Start(ctx, c, cfg)
	if err != nil {
		return err
	}
	if err := waitCaughtUp(ctx, h); err != nil {
		return err
	}
	st := h.Stats()
	fmt.Fprintf(out, "   replayed %d events, applied %d\n", st.Replayed, st.Applied)
	printAssets(out, h, "state after the restart")

	stopCtx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.Stop(stopCtx); err != nil {
		return err
	}
	raw, found, err := c.ProjectionState(ctx, *consumer, id("SOL"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "6. SOL as pushed to Core's projection store (found %v): %s\n", found, raw)
	return nil
}

// connect returns a Core client: for ALLSOURCE_URL when it is set, else
// for an embedded in-memory Core.
func connect(out io.Writer) (allsource.CoreClient, func(), error) {
	if os.Getenv(allsource.EnvURL) != "" {
		c, err := allsource.NewCoreClientFromEnv()
		return c, func() {}, err
	}
	const key = "demo-key"
	srv := coretest.NewServer(coretest.WithAPIKeys(key))
	fmt.Fprintln(out, "using the embedded Core at", srv.URL)
	c, err := allsource.NewCoreClient(srv.URL, key)
	return c, func() { _ = srv.Close() }, err
}

func event(entity, typ string, payload any) allsource.NewEvent {
	return allsource.NewEvent{Type: typ, EntityID: entity, Payload: payload}
}

func ingest(ctx context.Context, c allsource.CoreClient, events ...allsource.NewEvent) error {
	_, err := c.IngestBatch(ctx, events)
	return err
}

func waitCaughtUp(ctx context.Context, h *projection.Handle[Assets]) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return h.WaitCaughtUp(ctx)
}

// waitFor waits until cond holds for the worker's state.
func waitFor(h *projection.Handle[Assets], cond func(Assets) bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok := false
		h.Read(func(s Assets) { ok = cond(s) })
		if ok {
			return nil
		}
		if err := h.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("the live event never reached the worker")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func printAssets(out io.Writer, h *projection.Handle[Assets], title string) {
	fmt.Fprintf(out, "   %s:\n", title)
	h.Read(func(s Assets) {
		syms := make([]string, 0, len(s.BySymbol))
		for sym := range s.BySymbol {
			syms = append(syms, sym)
		}
		sort.Strings(syms)
		for _, sym := range syms {
			a := s.BySymbol[sym]
			ex, _ := json.Marshal(a.Exchanges)
			fmt.Fprintf(out, "     %-4s %-9s %-7s v%d exchanges %s\n", a.Symbol, a.Name, a.Class, a.Version, ex)
		}
	})
}
