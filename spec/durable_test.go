package spec

import (
	"net/http"
	"slices"
	"testing"
)

// durableOperations is every operation of the Durable Streams protocol: one
// path, the stream, with every method the protocol applies to it.
var durableOperations = []operation{
	{http.MethodPut, "/{stream}", "create"},
	{http.MethodPost, "/{stream}", "append"},
	{http.MethodDelete, "/{stream}", "delete"},
	{http.MethodHead, "/{stream}", "head"},
	{http.MethodGet, "/{stream}", "read"},
}

func TestDurableOperationsComplete(t *testing.T) {
	doc := validated(t, DurableStreams)
	got := operations(doc)
	want := slices.Clone(durableOperations)
	slices.SortFunc(want, compareOperations)
	if !slices.Equal(got, want) {
		t.Errorf("operations = %v, want %v", got, want)
	}
	p := doc.Paths.Value("/{stream}").Parameters[0].Value
	if p.Name != "stream" || p.Extensions["x-path-segments"] != true {
		t.Errorf("stream parameter %q: x-path-segments = %v, want true", p.Name, p.Extensions["x-path-segments"])
	}
}

// TestDurableHeaders asserts that every header and parameter the protocol
// registers is in the document where it is sent, and every status of each
// operation is documented.
func TestDurableHeaders(t *testing.T) {
	doc := validated(t, DurableStreams)
	params := map[string][]string{
		"create": {"Content-Type", "Stream-TTL", "Stream-Expires-At", "Stream-Closed", "Stream-Forked-From", "Stream-Fork-Offset", "Stream-Fork-Sub-Offset"},
		"append": {"Content-Type", "Stream-Seq", "Stream-Closed", "Producer-Id", "Producer-Epoch", "Producer-Seq"},
		"read":   {"offset", "live", "cursor", "If-None-Match"},
	}
	statuses := map[string][]string{
		"create": {"200", "201", "400", "404", "409", "429"},
		"append": {"200", "204", "400", "403", "404", "405", "409", "410", "413", "429", "501"},
		"delete": {"204", "404", "405", "410", "429", "501"},
		"head":   {"200", "404", "410", "429"},
		"read":   {"200", "204", "304", "400", "404", "410", "429"},
	}
	headers := map[string]map[string][]string{
		"create": {"201": {"Location", "Stream-Next-Offset", "Stream-Closed"}, "200": {"Stream-Next-Offset", "Stream-Closed"}},
		"append": {
			"200": {"Stream-Next-Offset", "Stream-Closed", "Producer-Epoch", "Producer-Seq"},
			"204": {"Stream-Next-Offset", "Stream-Closed", "Producer-Epoch", "Producer-Seq"},
			"403": {"Producer-Epoch"},
			"409": {"Stream-Closed", "Stream-Next-Offset", "Producer-Expected-Seq", "Producer-Received-Seq"},
			"429": {"Retry-After"},
		},
		"head": {"200": {"Stream-Next-Offset", "Stream-TTL", "Stream-Expires-At", "Stream-Closed", "Cache-Control", "ETag"}},
		"read": {
			"200": {"Stream-Next-Offset", "Stream-Up-To-Date", "Stream-Closed", "Stream-Cursor", "ETag", "Stream-SSE-Data-Encoding"},
			"204": {"Stream-Next-Offset", "Stream-Up-To-Date", "Stream-Closed", "Stream-Cursor"},
		},
	}
	for id, want := range statuses {
		_, op := operationByID(t, doc, id)
		for _, st := range want {
			r := op.Responses.Value(st)
			if r == nil {
				t.Errorf("%s: status %s not documented", id, st)
				continue
			}
			for _, h := range headers[id][st] {
				if _, ok := r.Value.Headers[h]; !ok {
					t.Errorf("%s %s: header %s not documented", id, st, h)
				}
			}
		}
		for _, name := range params[id] {
			found := false
			for _, p := range op.Parameters {
				found = found || p.Value.Name == name
			}
			if !found {
				t.Errorf("%s: parameter %s not documented", id, name)
			}
		}
	}
	_, read := operationByID(t, doc, "read")
	content := read.Responses.Value("200").Value.Content
	if content.Get("text/event-stream") == nil || content.Get("*/*") == nil {
		t.Errorf("read 200: content %v, want */* and text/event-stream", content)
	}
}
