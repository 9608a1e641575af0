package durable_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/runtime"
)

// FuzzReadResponse serves arbitrary bytes as the body of a catch-up read
// (of a JSON, text or binary stream) and of an SSE read, under arbitrary
// offset and closed headers, and reads them with the client: whatever the
// server sends, the read ends, with chunks or with an *Error, and never
// panics. The server is an in-process handler because no real server
// sends malformed responses on demand.
//
//	go test ./durable -run '^$' -fuzz FuzzReadResponse -fuzztime 60s
func FuzzReadResponse(f *testing.F) {
	seeds := []struct {
		body       string
		ct, offset string
		flags      byte
	}{
		{`[1,2,3]`, "application/json", "0_10", 1},
		{`[{"a":1}]`, "application/json", "0_20", 3},
		{`[1,`, "application/json", "0_5", 1},
		{"hello", "text/plain", "0_5", 1},
		{"event: data\ndata:[1]\n\nevent: control\ndata:{\"streamNextOffset\":\"0_9\",\"upToDate\":true}\n\n", "application/json", "", 4},
		{"event: data\ndata:AQID\n\nevent: control\ndata:{\"streamNextOffset\":\"0_9\",\"streamClosed\":true}\n\n", "application/octet-stream", "", 12},
		{"event: control\ndata:{\"streamNextOffset\":1}\n\n", "text/plain", "", 4},
		{"event: data\ndata:!!\n\nevent: control\ndata:{}\n\n", "application/octet-stream", "", 12},
	}
	for _, s := range seeds {
		f.Add(s.body, s.ct, s.offset, s.flags)
	}
	f.Fuzz(func(t *testing.T, body, ct, offset string, flags byte) {
		sse := flags&4 != 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			if sse {
				h.Set("Content-Type", "text/event-stream")
				if flags&8 != 0 {
					h.Set("Stream-SSE-Data-Encoding", "base64")
				}
			} else {
				h.Set("Content-Type", ct)
				h.Set("Stream-Next-Offset", offset)
				if flags&1 != 0 {
					h.Set("Stream-Up-To-Date", "true")
				}
				if flags&2 != 0 {
					h.Set("Stream-Closed", "true")
				}
			}
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		retry := runtime.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
		c, err := durable.New(srv.URL, durable.WithRetry(retry))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		s := c.Stream("fuzz").WithContentType(ct)
		live := durable.LiveOff
		if sse {
			live = durable.LiveSSE
		}
		reads := 0
		for _, err := range s.Read(ctx, durable.ReadOptions{Live: live}) {
			if err != nil {
				var de *durable.Error
				if !errors.As(err, &de) {
					t.Fatalf("error %v (%T) is not an *Error", err, err)
				}
				break
			}
			if reads++; reads > 1000 {
				break // a server that always answers with data: the loop works
			}
		}
		if durable.IsJSON(ct) {
			for _, err := range durable.ReadJSON[any](ctx, s, durable.ReadOptions{Live: live}) {
				if err != nil {
					var de *durable.Error
					if !errors.As(err, &de) {
						t.Fatalf("JSON read error %v (%T) is not an *Error", err, err)
					}
					break
				}
				if reads++; reads > 2000 {
					break
				}
			}
		}
	})
}
