// Package dstest starts the Durable Streams reference server, the npm
// package @durable-streams/server, for tests: a small Node script
// (serve.mjs) run with node on 127.0.0.1 and a free port, stopped when the
// test ends. The package is installed with npm, once, into a cache
// directory outside the repository (DSTEST_DIR, or the user cache
// directory). Without node or npm a test skips with a message saying what
// to install; with CI=true it fails instead, since CI installs both.
package dstest

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Package is the npm package and version the tests run against.
const Package = "@durable-streams/server@0.3.7"

//go:embed serve.mjs
var serveScript []byte

// Server is a running reference server.
type Server struct {
	// URL is the server's base URL, for example http://127.0.0.1:41231.
	URL string
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bytes.Buffer
}

// Options configure a server.
type Options struct {
	// LongPoll is how long the server holds a long-poll without data (and
	// the pace of SSE keep-alives); 0 means 500 ms, short for tests.
	LongPoll time.Duration
}

// Start starts a reference server for tb and stops it when tb ends. It
// skips tb when node or npm are missing (fails under CI=true).
func Start(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	dir, err := Install()
	if errors.Is(err, ErrNoNode) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("dstest: %v (CI must install Node)", err)
		}
		tb.Skip(err.Error())
	}
	if err != nil {
		tb.Fatalf("dstest: %v", err)
	}
	s, err := start(dir, o)
	if err != nil {
		tb.Fatalf("dstest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Run installs the package if needed and starts a server outside a test
// (examples, benchmarks' tools); the caller stops it with Stop. It returns
// ErrNoNode when node or npm is missing.
func Run(o Options) (*Server, error) {
	dir, err := Install()
	if err != nil {
		return nil, err
	}
	return start(dir, o)
}

// ErrNoNode reports that node or npm is not installed.
var ErrNoNode = errors.New("node and npm not found: install Node.js 20 or later and npm (apt-get install nodejs npm) to run the tests against the Durable Streams reference server")

// Install makes sure the reference server package is installed and returns
// the directory holding its node_modules and serve.mjs.
func Install() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", ErrNoNode
	}
	dir := os.Getenv("DSTEST_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "allsource-go", "durable-streams-server-"+Package[strings.LastIndexByte(Package, '@')+1:])
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Test binaries of several packages may install at once: one at a time.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@durable-streams", "server", "package.json")); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			return "", ErrNoNode
		}
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"private":true,"type":"module"}`+"\n"), 0o644); err != nil {
			return "", err
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", Package)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm install %s in %s: %w\n%s", Package, dir, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "serve.mjs"), serveScript, 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

func start(dir string, o Options) (*Server, error) {
	lp := o.LongPoll
	if lp <= 0 {
		lp = 500 * time.Millisecond
	}
	cmd := exec.Command("node", "serve.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT=0", "HOST=127.0.0.1", "LONG_POLL_MS="+strconv.FormatInt(lp.Milliseconds(), 10))
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				line <- sc.Text()
				first = false
			}
		}
		if first {
			close(line)
		}
	}()
	s := &Server{cmd: cmd, in: in, out: &stderr}
	select {
	case l, ok := <-line:
		if !ok || !strings.HasPrefix(l, "listening on ") {
			s.Stop()
			return nil, fmt.Errorf("reference server did not start: %q %s", l, stderr.String())
		}
		s.URL = strings.TrimRight(strings.TrimPrefix(l, "listening on "), "/")
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("reference server did not start within 30 s: %s", stderr.String())
	}
	return s, nil
}

// Stop stops the server and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	s.in.Close()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// Fault is a fault the server injects into the requests to one path (its
// /_test/inject-error endpoint). Zero fields are left out.
type Fault struct {
	// Path is the exact request path, without the query.
	Path string `json:"path"`
	// Count is how many matching requests the fault affects (default 1).
	Count int `json:"count,omitempty"`
	// Status answers with this status.
	Status int `json:"status,omitempty"`
	// RetryAfter is sent as Retry-After (seconds) with Status.
	RetryAfter int `json:"retryAfter,omitempty"`
	// DelayMs delays the request before it is handled.
	DelayMs int `json:"delayMs,omitempty"`
	// JitterMs adds a random delay up to this.
	JitterMs int `json:"jitterMs,omitempty"`
	// DropConnection destroys the connection without a response.
	DropConnection bool `json:"dropConnection,omitempty"`
	// TruncateBodyBytes cuts the response body after this many bytes.
	TruncateBodyBytes int `json:"truncateBodyBytes,omitempty"`
	// CorruptBody overwrites some bytes of the response body.
	CorruptBody bool `json:"corruptBody,omitempty"`
	// Method limits the fault to requests with this method.
	Method string `json:"method,omitempty"`
}

// Inject installs f (replacing the path's earlier fault).
func (s *Server) Inject(tb testing.TB, f Fault) {
	tb.Helper()
	body, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	s.control(tb, http.MethodPost, body)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults(tb testing.TB) {
	tb.Helper()
	s.control(tb, http.MethodDelete, nil)
}

func (s *Server) control(tb testing.TB, method string, body []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"/_test/inject-error", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("dstest: fault injection: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("dstest: fault injection: %s: %s", resp.Status, data)
	}
}
