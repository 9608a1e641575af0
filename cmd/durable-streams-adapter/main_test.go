package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/allsource-go/allsource/internal/dstest"
)

// TestMain runs the adapter itself when the test binary is started as it.
func TestMain(m *testing.M) {
	if os.Getenv("DURABLE_ADAPTER_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// session is the adapter process, driven over its stdin and stdout.
type session struct {
	t    *testing.T
	in   io.WriteCloser
	out  *bufio.Scanner
	proc *exec.Cmd
}

func startAdapter(t *testing.T) *session {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DURABLE_ADAPTER_MAIN=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &session{t: t, in: in, out: sc, proc: cmd}
}

// send writes one command line and reads one result line.
func (s *session) send(line string) map[string]any {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatal(err)
	}
	if !s.out.Scan() {
		s.t.Fatalf("no result for %s: %v", line, s.out.Err())
	}
	var r map[string]any
	if err := json.Unmarshal(s.out.Bytes(), &r); err != nil {
		s.t.Fatalf("result %q: %v", s.out.Text(), err)
	}
	return r
}

// cmd sends a command built from fields.
func (s *session) cmd(fields map[string]any) map[string]any {
	s.t.Helper()
	data, _ := json.Marshal(fields)
	return s.send(string(data))
}

func want(t *testing.T, r map[string]any, kv ...any) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		got, _ := json.Marshal(r[k])
		exp, _ := json.Marshal(kv[i+1])
		if string(got) != string(exp) {
			t.Fatalf("%s = %s, want %s (result %v)", k, got, exp, r)
		}
	}
}

func TestAdapter(t *testing.T) {
	srv := dstest.Start(t)
	s := startAdapter(t)
	r := s.cmd(map[string]any{"type": "init", "serverUrl": srv.URL})
	want(t, r, "type", "init", "success", true,
		"features", map[string]bool{"batching": true, "sse": true, "longPoll": true, "auto": true, "streaming": true, "dynamicHeaders": true})

	const p = "/adapter-stream"
	want(t, s.cmd(map[string]any{"type": "create", "path": p, "contentType": "text/plain"}), "success", true, "status", 201)
	want(t, s.cmd(map[string]any{"type": "create", "path": p, "contentType": "text/plain"}), "success", true, "status", 200)
	want(t, s.cmd(map[string]any{"type": "create", "path": p, "contentType": "application/json"}), "errorCode", "CONFLICT", "status", 409)
	want(t, s.cmd(map[string]any{"type": "connect", "path": p}), "success", true, "status", 200)
	want(t, s.cmd(map[string]any{"type": "append", "path": p, "data": "hello "}), "success", true, "status", 200)
	want(t, s.cmd(map[string]any{"type": "append", "path": p, "data": "world", "seq": 2}), "success", true)
	want(t, s.cmd(map[string]any{"type": "append", "path": p, "data": "x", "seq": 1}), "errorCode", "SEQUENCE_CONFLICT", "status", 409)
	want(t, s.cmd(map[string]any{"type": "append", "path": p, "data": ""}), "success", false, "status", 400)
	r = s.cmd(map[string]any{"type": "append", "path": "/missing-stream", "data": "x"})
	want(t, r, "errorCode", "NOT_FOUND", "status", 404)
	if !strings.Contains(r["message"].(string), "/missing-stream") {
		t.Fatalf("message %q does not name the stream", r["message"])
	}
	r = s.cmd(map[string]any{"type": "read", "path": p})
	want(t, r, "success", true, "status", 200, "upToDate", true, "streamClosed", false)
	if chunks := r["chunks"].([]any); len(chunks) != 1 || chunks[0].(map[string]any)["data"] != "hello world" {
		t.Fatalf("chunks %v", r["chunks"])
	}
	want(t, s.cmd(map[string]any{"type": "read", "path": p, "offset": "garbage"}), "errorCode", "INVALID_OFFSET", "status", 400)
	r = s.cmd(map[string]any{"type": "read", "path": p, "offset": "now", "live": "long-poll", "timeoutMs": 800})
	want(t, r, "success", true, "status", 204, "upToDate", true, "chunks", []any{})
	r = s.cmd(map[string]any{"type": "read", "path": p, "live": "sse", "waitForUpToDate": true})
	want(t, r, "success", true, "upToDate", true)
	want(t, s.cmd(map[string]any{"type": "set-dynamic-header", "name": "X-Counter", "valueType": "counter"}), "success", true)
	want(t, s.cmd(map[string]any{"type": "append", "path": p, "data": "!"}), "success", true, "headersSent", map[string]string{"X-Counter": "1"})
	want(t, s.cmd(map[string]any{"type": "read", "path": p}), "success", true, "headersSent", map[string]string{"X-Counter": "2"})
	want(t, s.cmd(map[string]any{"type": "clear-dynamic"}), "success", true)

	const j = "/adapter-json"
	want(t, s.cmd(map[string]any{"type": "create", "path": j, "contentType": "application/json"}), "status", 201)
	for range 2 {
		want(t, s.cmd(map[string]any{"type": "idempotent-append", "path": j, "producerId": "w", "epoch": 0, "data": `{"a":1}`}), "success", true)
	}
	want(t, s.cmd(map[string]any{"type": "idempotent-append-batch", "path": j, "producerId": "b", "epoch": 0, "maxInFlight": 3,
		"items": []string{"1", "2", "3", "4", "5", "6"}}), "success", true)
	want(t, s.cmd(map[string]any{"type": "idempotent-close", "path": j, "producerId": "w", "epoch": 0, "data": `"end"`}), "success", true)
	want(t, s.cmd(map[string]any{"type": "idempotent-close", "path": j, "producerId": "w", "epoch": 0}), "success", true)
	want(t, s.cmd(map[string]any{"type": "idempotent-close", "path": j, "producerId": "other", "epoch": 0}), "errorCode", "STREAM_CLOSED", "status", 409)
	r = s.cmd(map[string]any{"type": "read", "path": j, "live": true})
	want(t, r, "success", true, "streamClosed", true)
	var all strings.Builder
	for _, c := range r["chunks"].([]any) {
		all.WriteString(c.(map[string]any)["data"].(string))
	}
	if all.String() != `[{"a":1},{"a":1},1,2,3,4,5,6,"end"]` && all.String() != `[{"a":1},{"a":1}][1,2,3,4,5,6]["end"]` {
		t.Fatalf("JSON stream read %s", all.String())
	}
	want(t, s.cmd(map[string]any{"type": "head", "path": j}), "success", true, "streamClosed", true, "contentType", "application/json")
	want(t, s.cmd(map[string]any{"type": "append", "path": j, "data": "[1]"}), "errorCode", "STREAM_CLOSED", "status", 409)
	want(t, s.cmd(map[string]any{"type": "close", "path": p}), "success", true, "status", 200)
	want(t, s.cmd(map[string]any{"type": "validate", "target": map[string]any{"target": "idempotent-producer", "epoch": -1}}), "errorCode", "INVALID_ARGUMENT")
	want(t, s.cmd(map[string]any{"type": "validate", "target": map[string]any{"target": "idempotent-producer", "maxBatchBytes": 100}}), "success", true)
	want(t, s.cmd(map[string]any{"type": "delete", "path": p}), "success", true, "status", 200)
	want(t, s.cmd(map[string]any{"type": "head", "path": p}), "errorCode", "NOT_FOUND", "status", 404)
	want(t, s.send("{not json"), "errorCode", "PARSE_ERROR", "success", false)
	r = s.cmd(map[string]any{"type": "benchmark", "iterationId": "1", "operation": map[string]any{"op": "roundtrip", "path": "/bench-rt", "size": 100, "live": "sse"}})
	want(t, r, "success", true, "iterationId", "1")
	want(t, s.cmd(map[string]any{"type": "shutdown"}), "success", true)
	done := make(chan error, 1)
	go func() { done <- s.proc.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("adapter exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("adapter did not exit after shutdown")
	}
}

// TestAdapterBinaryRetryEpoch: binary appends (plain and idempotent) read
// back as base64 when the runner asks for it, the encoding option is taken
// only for SSE reads of binary streams, a plain append is retried after a
// 500 and a dropped connection, and a producer restarted in a used epoch
// with auto-claim takes the next one instead of losing its item.
func TestAdapterBinaryRetryEpoch(t *testing.T) {
	srv := dstest.Start(t)
	s := startAdapter(t)
	want(t, s.cmd(map[string]any{"type": "init", "serverUrl": srv.URL}), "success", true)

	const b = "/adapter-binary"
	want(t, s.cmd(map[string]any{"type": "create", "path": b, "contentType": "application/octet-stream"}), "status", 201)
	want(t, s.cmd(map[string]any{"type": "append", "path": b, "data": "AAGb/w==", "binary": true}), "success", true)
	want(t, s.cmd(map[string]any{"type": "idempotent-append", "path": b, "producerId": "p", "epoch": 0, "data": "gICA", "binary": true}), "success", true)
	for _, live := range []any{false, "sse"} {
		r := s.cmd(map[string]any{"type": "read", "path": b, "live": live, "waitForUpToDate": true, "binaryResponse": true})
		want(t, r, "success", true)
		var got []byte
		for _, c := range r["chunks"].([]any) {
			c := c.(map[string]any)
			if c["binary"] != true {
				t.Fatalf("%v: chunk %v is not marked binary", live, c)
			}
			data, err := base64.StdEncoding.DecodeString(c["data"].(string))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, data...)
		}
		if !bytes.Equal(got, []byte{0x00, 0x01, 0x9b, 0xff, 0x80, 0x80, 0x80}) {
			t.Fatalf("%v: read % x", live, got)
		}
	}
	want(t, s.cmd(map[string]any{"type": "read", "path": b, "live": "sse", "encoding": "base64", "waitForUpToDate": true}), "success", true)
	for _, live := range []any{false, "long-poll"} {
		r := s.cmd(map[string]any{"type": "read", "path": b, "live": live, "encoding": "base64"})
		want(t, r, "errorCode", "INVALID_ARGUMENT")
		if !strings.Contains(r["message"].(string), "encoding") {
			t.Fatalf("message %q does not name the encoding", r["message"])
		}
	}
	const txt = "/adapter-text"
	want(t, s.cmd(map[string]any{"type": "create", "path": txt, "contentType": "text/plain"}), "status", 201)
	want(t, s.cmd(map[string]any{"type": "read", "path": txt, "live": "sse", "encoding": "base64"}), "errorCode", "INVALID_ARGUMENT")

	for i, f := range []dstest.Fault{{Status: 500}, {DropConnection: true}} {
		f.Path, f.Method = txt, http.MethodPost
		srv.Inject(t, f)
		want(t, s.cmd(map[string]any{"type": "append", "path": txt, "data": fmt.Sprint(i)}), "success", true)
	}
	r := s.cmd(map[string]any{"type": "read", "path": txt})
	if chunks := r["chunks"].([]any); len(chunks) != 1 || chunks[0].(map[string]any)["data"] != "01" {
		t.Fatalf("after the retried appends: %v", r)
	}

	// Epoch 0 of producer "q" is used by the runner's own request; a
	// producer restarted in it claims epoch 1 for its item.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+txt, strings.NewReader("2"))
	req.Header = http.Header{"Content-Type": {"text/plain"}, "Producer-Id": {"q"}, "Producer-Epoch": {"0"}, "Producer-Seq": {"0"}}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("producer append: %v %v", resp, err)
	}
	resp.Body.Close()
	want(t, s.cmd(map[string]any{"type": "idempotent-append", "path": txt, "producerId": "q", "epoch": 0, "autoClaim": true, "data": "3"}), "success", true)
	want(t, s.cmd(map[string]any{"type": "idempotent-append", "path": "/adapter-text", "producerId": "r", "epoch": 0, "data": "4"}), "success", true)
	r = s.cmd(map[string]any{"type": "read", "path": txt})
	var all strings.Builder
	for _, c := range r["chunks"].([]any) {
		all.WriteString(c.(map[string]any)["data"].(string))
	}
	if all.String() != "01234" {
		t.Fatalf("text stream holds %q, want 01234", all.String())
	}
	want(t, s.cmd(map[string]any{"type": "shutdown"}), "success", true)
}
