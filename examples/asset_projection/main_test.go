package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunShowsRestartFromSnapshot(t *testing.T) {
	t.Setenv("ALLSOURCE_URL", "")
	var out bytes.Buffer
	if err := run([]string{"-snapshots", t.TempDir()}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"replayed 3 events, applied 3",
		"ETH  Ether     crypto  v3",
		"SOL  Solana    crypto  v2 exchanges {\"kraken\":\"SOL/USD\"}",
		"BTC  Bitcoin   crypto  v3 exchanges {\"binance\":\"BTCUSDT\",\"kraken\":\"XBT/USD\"}",
		"(found true)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
