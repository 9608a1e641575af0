package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// TestReadBodySizes reads bodies of known and unknown length, whole and in
// small reads, below, at and above the limit, into fresh and used buffers.
func TestReadBodySizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 40_000, 100_000, 1 << 20, 3<<20 + 17} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		for _, limit := range []int64{int64(size), int64(size) + 1, int64(size) - 1, 1000, 10 << 20} {
			if limit < 0 {
				continue
			}
			for _, known := range []bool{true, false} {
				for _, small := range []bool{false, true} {
					var r io.Reader = bytes.NewReader(data)
					if small && size <= 100_000 {
						r = iotest.HalfReader(r)
					}
					resp := &http.Response{Body: io.NopCloser(r), ContentLength: -1}
					if known {
						resp.ContentLength = int64(size)
					}
					var buf bytes.Buffer
					buf.WriteString("x")
					buf.Reset() // a used buffer, as the pool hands out
					tooLarge, err := readBody(&buf, resp, limit)
					if err != nil {
						t.Fatalf("size %d limit %d: %v", size, limit, err)
					}
					want := data
					if int64(size) > limit {
						want = data[:limit]
					}
					if tooLarge != (int64(size) > limit) || !bytes.Equal(buf.Bytes(), want) {
						t.Fatalf("size %d limit %d known %v small %v: tooLarge %v, %d bytes, equal %v",
							size, limit, known, small, tooLarge, buf.Len(), bytes.Equal(buf.Bytes(), want))
					}
				}
			}
		}
	}
	// A read error after some data is returned with what was read.
	boom := errors.New("boom")
	resp := &http.Response{Body: io.NopCloser(io.MultiReader(bytes.NewReader(make([]byte, 200_000)), iotest.ErrReader(boom))), ContentLength: -1}
	var buf bytes.Buffer
	if _, err := readBody(&buf, resp, 1<<20); !errors.Is(err, boom) || buf.Len() != 200_000 {
		t.Fatalf("err %v, %d bytes", err, buf.Len())
	}
}

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	mu     *sync.Mutex
	writes *int
}

func (c countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// TestInMemoryBodyOneWrite: a request whose body is in memory (Body, or a
// BodyStream that is a *bytes.Buffer or a small *bytes.Reader or
// *strings.Reader) reaches the connection in one write, headers and body
// together; a body net/http cannot see is in memory takes more.
func TestInMemoryBodyOneWrite(t *testing.T) {
	const payload = `{"event_type":"a.b","entity_id":"x","payload":{}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); string(b) != payload {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	writes := 0
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: conn, mu: &mu, writes: &writes}, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := New(srv.URL, WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body func(r *Request)
		one  bool
	}{
		{"Body", func(r *Request) { r.Body = []byte(payload) }, true},
		{"bytes.Buffer", func(r *Request) { r.BodyStream = bytes.NewBufferString(payload) }, true},
		{"bytes.Reader", func(r *Request) { r.BodyStream = bytes.NewReader([]byte(payload)) }, true},
		{"strings.Reader", func(r *Request) { r.BodyStream = strings.NewReader(payload) }, true},
		{"other reader", func(r *Request) { r.BodyStream = io.MultiReader(strings.NewReader(payload)) }, false},
	} {
		req := &Request{OperationID: "post", Method: http.MethodPost, Path: "/", ContentType: "application/json"}
		tc.body(req)
		mu.Lock()
		writes = 0
		mu.Unlock()
		if err := c.Do(context.Background(), req, nil); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		mu.Lock()
		got := writes
		mu.Unlock()
		if (got == 1) != tc.one {
			t.Errorf("%s: %d writes, want one: %v", tc.name, got, tc.one)
		}
	}
}
