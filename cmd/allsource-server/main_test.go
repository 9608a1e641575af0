package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun_RequiresKeyOrDev(t *testing.T) {
	err := run(context.Background(), nil, "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Fatalf("err %v", err)
	}
}

// The command serves Core and the Query Service with the keys from the
// flag and the environment, survives a restart with -data-dir, never logs
// a key, and stops when its context ends.
func TestRun_ServesAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	core, query := freeAddr(t), freeAddr(t)
	start := func() (*syncBuffer, context.CancelFunc, chan error) {
		var logs syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", core, "-query-addr", query, "-api-key", "ask_flag1,ask_flag2", "-data-dir", dir, "-v"}, "ask_env", &logs)
		}()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if resp, err := http.Get("http://" + core + "/health"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("server did not start")
			}
			time.Sleep(10 * time.Millisecond)
		}
		return &logs, cancel, done
	}
	do := func(method, url, key, body string) int {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	logs, cancel, done := start()
	for _, key := range []string{"ask_flag1", "ask_flag2", "ask_env"} {
		if st := do("POST", "http://"+core+"/api/v1/events", key, `{"event_type":"a.b","entity_id":"e","payload":{}}`); st != 200 {
			t.Fatalf("ingest with %s: %d", key, st)
		}
	}
	if st := do("GET", "http://"+core+"/api/v1/stats", "ask_other", ""); st != 401 {
		t.Errorf("unknown key: %d", st)
	}
	if st := do("GET", "http://"+query+"/health", "", ""); st != 200 {
		t.Errorf("query service health: %d", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, key := range []string{"ask_flag1", "ask_flag2", "ask_env", "ask_other"} {
		if strings.Contains(logs.String(), key) {
			t.Errorf("logs contain the key %s", key)
		}
	}
	if !strings.Contains(logs.String(), "operation=ingestEvent") {
		t.Errorf("-v did not log requests:\n%s", logs)
	}

	_, cancel, done = start()
	defer func() { cancel(); <-done }()
	resp, err := http.Get("http://" + core + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "http://"+core+"/api/v1/stats", nil)
	req.Header.Set("X-API-Key", "ask_env")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"total_events":3`) {
		t.Errorf("after restart: %s", body)
	}
}

// The start-up message leads to a working client: the URL, the tenant to
// give the client, and the quick start to run.
func TestRun_WelcomeLeadsToQuickStart(t *testing.T) {
	core := freeAddr(t)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", core, "-query-addr", "", "-dev"}, "", &logs) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "Try it:") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up message:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{
		"listening on http://" + core,
		`"dev-tenant"`,
		`allsource.WithTenant("quickstart")`,
		"ALLSOURCE_URL=http://" + core + " go run ./examples/quickstart",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up message lacks %q:\n%s", want, out)
		}
	}
}
