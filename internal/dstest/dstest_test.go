package dstest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStartAndInject starts the reference server, creates a stream with a
// plain request, and checks that an injected 503 is served once.
func TestStartAndInject(t *testing.T) {
	s := Start(t)
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/dstest/a", strings.NewReader("hello"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Stream-Next-Offset") == "" {
		t.Fatalf("create: %s, offset %q", resp.Status, resp.Header.Get("Stream-Next-Offset"))
	}
	s.Inject(t, Fault{Path: "/dstest/a", Status: 503, RetryAfter: 1, Method: http.MethodGet})
	for i, want := range []int{503, 200} {
		resp, err := http.Get(s.URL + "/dstest/a?offset=-1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("read %d: %s, want %d", i, resp.Status, want)
		}
		if want == 200 && string(body) != "hello" {
			t.Fatalf("read: %q", body)
		}
		if want == 503 && resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
	}
	s.ClearFaults(t)
}
