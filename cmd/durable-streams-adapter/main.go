// Command durable-streams-adapter drives the durable package for the
// Durable Streams client conformance runner: it reads one JSON command per
// line on standard input and writes one JSON result per line on standard
// output, one command at a time. Logs go to standard error.
//
//	conformance runner --run ./durable-streams-adapter
//
// Its init result advertises only what the client implements: batching,
// sse, longPoll, auto, streaming and dynamicHeaders.
//
// The runner expects a plain append to be retried after a 500 or a
// dropped connection, which the client does only when asked: the adapter
// sends its appends with durable.WithAtLeastOnce.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/gen/durablestreams"
	"github.com/allsource-go/allsource/runtime"
)

func main() {
	log.SetOutput(os.Stderr)
	log.SetFlags(0)
	a := newAdapter()
	if err := a.serve(os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Version is reported in the init result.
const Version = "0.1.0"

// command is one line of the runner: the union of every command's fields.
type command struct {
	Type            string            `json:"type"`
	ServerURL       string            `json:"serverUrl"`
	Path            string            `json:"path"`
	ContentType     string            `json:"contentType"`
	TTLSeconds      *int64            `json:"ttlSeconds"`
	ExpiresAt       string            `json:"expiresAt"`
	Headers         map[string]string `json:"headers"`
	Closed          bool              `json:"closed"`
	Data            *string           `json:"data"`
	Binary          bool              `json:"binary"`
	BinaryResponse  bool              `json:"binaryResponse"`
	Encoding        *string           `json:"encoding"`
	Seq             *json.Number      `json:"seq"`
	ProducerID      string            `json:"producerId"`
	Epoch           int64             `json:"epoch"`
	AutoClaim       bool              `json:"autoClaim"`
	Items           []string          `json:"items"`
	MaxInFlight     int               `json:"maxInFlight"`
	Offset          *string           `json:"offset"`
	Live            json.RawMessage   `json:"live"`
	TimeoutMs       *int64            `json:"timeoutMs"`
	MaxChunks       *int              `json:"maxChunks"`
	WaitForUpToDate bool              `json:"waitForUpToDate"`
	Name            string            `json:"name"`
	ValueType       string            `json:"valueType"`
	InitialValue    string            `json:"initialValue"`
	Target          json.RawMessage   `json:"target"`
	IterationID     string            `json:"iterationId"`
	Operation       json.RawMessage   `json:"operation"`
}

// result is one output line.
type result map[string]any

// dynamic is a header or query parameter evaluated afresh per command.
type dynamic struct {
	kind    string // counter, timestamp, token
	counter int64
	token   string
}

func (d *dynamic) next() string {
	switch d.kind {
	case "counter":
		d.counter++
		return strconv.FormatInt(d.counter, 10)
	case "timestamp":
		return strconv.FormatInt(time.Now().UnixMilli(), 10)
	}
	return d.token
}

type producerKey struct {
	path, id string
	epoch    int64
}

// adapter is the state kept across commands.
type adapter struct {
	client      *durable.Client
	serverURL   string
	contentType map[string]string
	producers   map[producerKey]*durable.Producer
	dynHeaders  map[string]*dynamic
	dynParams   map[string]*dynamic

	mu      sync.Mutex // guards the per-command values the middleware reads
	headers map[string]string
	params  map[string]string
}

func newAdapter() *adapter {
	return &adapter{contentType: map[string]string{}, producers: map[producerKey]*durable.Producer{},
		dynHeaders: map[string]*dynamic{}, dynParams: map[string]*dynamic{}}
}

func (a *adapter) serve(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(out)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var cmd command
		var res result
		if err := json.Unmarshal(line, &cmd); err != nil {
			res = result{"type": "error", "success": false, "commandType": "unknown", "errorCode": "PARSE_ERROR", "message": "malformed command: " + err.Error()}
		} else {
			res = a.handle(cmd)
		}
		data, err := json.Marshal(res)
		if err != nil {
			data, _ = json.Marshal(result{"type": "error", "success": false, "commandType": cmd.Type, "errorCode": "INTERNAL_ERROR", "message": err.Error()})
		}
		w.Write(data)
		w.WriteByte('\n')
		if err := w.Flush(); err != nil {
			return err
		}
		if cmd.Type == "shutdown" {
			return nil
		}
	}
	return sc.Err()
}

// handle runs one command, recovering a panic into an error result.
func (a *adapter) handle(cmd command) (res result) {
	defer func() {
		if r := recover(); r != nil {
			res = result{"type": "error", "success": false, "commandType": cmd.Type, "errorCode": "INTERNAL_ERROR", "message": fmt.Sprint("panic: ", r)}
		}
	}()
	if cmd.Type != "init" && a.client == nil && cmd.Type != "shutdown" && cmd.Type != "validate" {
		return errorResult(cmd.Type, "INTERNAL_ERROR", 0, "no init command yet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a.setRequestValues(cmd.Headers, nil)
	switch cmd.Type {
	case "init":
		return a.init(cmd)
	case "create":
		return a.create(ctx, cmd)
	case "connect", "head":
		return a.head(ctx, cmd)
	case "append":
		return a.append(ctx, cmd)
	case "close":
		return a.close(ctx, cmd)
	case "delete":
		if err := a.client.Stream(cmd.Path).Delete(ctx); err != nil {
			return failure(cmd.Type, err)
		}
		return result{"type": cmd.Type, "success": true, "status": 200}
	case "read":
		return a.read(cmd)
	case "idempotent-append":
		return a.idempotentAppend(ctx, cmd)
	case "idempotent-append-batch":
		return a.idempotentBatch(ctx, cmd)
	case "idempotent-close":
		return a.idempotentClose(ctx, cmd)
	case "idempotent-detach":
		key := producerKey{cmd.Path, cmd.ProducerID, cmd.Epoch}
		if p := a.producers[key]; p != nil {
			delete(a.producers, key)
			if err := p.Detach(ctx); err != nil {
				return failure(cmd.Type, err)
			}
		}
		return result{"type": cmd.Type, "success": true, "status": 200}
	case "set-dynamic-header", "set-dynamic-param":
		d := &dynamic{kind: cmd.ValueType, token: cmd.InitialValue}
		if cmd.Type == "set-dynamic-header" {
			a.dynHeaders[cmd.Name] = d
		} else {
			a.dynParams[cmd.Name] = d
		}
		return result{"type": cmd.Type, "success": true}
	case "clear-dynamic":
		a.dynHeaders, a.dynParams = map[string]*dynamic{}, map[string]*dynamic{}
		return result{"type": cmd.Type, "success": true}
	case "validate":
		return a.validate(cmd)
	case "benchmark":
		return a.benchmark(ctx, cmd)
	case "shutdown":
		for k, p := range a.producers {
			_ = p.Detach(ctx)
			delete(a.producers, k)
		}
		return result{"type": "shutdown", "success": true}
	}
	return errorResult(cmd.Type, "NOT_SUPPORTED", 0, "command "+strconv.Quote(cmd.Type)+" is not supported")
}

func (a *adapter) init(cmd command) result {
	for _, p := range a.producers {
		_ = p.Detach(context.Background())
	}
	*a = *newAdapter()
	c, err := durable.New(cmd.ServerURL,
		durable.WithRetry(durable.DefaultRetry()),
		durable.WithHeaderFunc(a.requestHeaders),
		durable.WithRuntimeOptions(runtimeParams(a)))
	if err != nil {
		return errorResult("init", "INVALID_ARGUMENT", 0, err.Error())
	}
	a.client, a.serverURL = c, cmd.ServerURL
	return result{"type": "init", "success": true, "clientName": "allsource-go/durable", "clientVersion": Version,
		"features": map[string]bool{"batching": true, "sse": true, "longPoll": true, "auto": true, "streaming": true, "dynamicHeaders": true}}
}

// setRequestValues sets the headers and query parameters every request of
// the current command carries.
func (a *adapter) setRequestValues(h, p map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.headers, a.params = h, p
}

// evalDynamic evaluates the dynamic headers and parameters once for an
// append or read command and returns what it sends.
func (a *adapter) evalDynamic(cmd command) (headers, params map[string]string) {
	headers = map[string]string{}
	for name, d := range a.dynHeaders {
		headers[name] = d.next()
	}
	params = map[string]string{}
	for name, d := range a.dynParams {
		params[name] = d.next()
	}
	all := map[string]string{}
	for k, v := range headers {
		all[k] = v
	}
	for k, v := range cmd.Headers { // explicit headers win
		all[k] = v
	}
	a.setRequestValues(all, params)
	return headers, params
}

func (a *adapter) requestHeaders(context.Context) (http.Header, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := http.Header{}
	for k, v := range a.headers {
		h.Set(k, v)
	}
	return h, nil
}

func (a *adapter) streamOf(path string) *durable.Stream {
	ct := a.contentType[path]
	if ct == "" {
		ct = "application/octet-stream"
	}
	return a.client.Stream(path).WithContentType(ct)
}

func (a *adapter) create(ctx context.Context, cmd command) result {
	ct := cmd.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	o := durable.CreateOptions{ContentType: ct, Closed: cmd.Closed}
	if cmd.TTLSeconds != nil {
		o.TTL = time.Duration(*cmd.TTLSeconds) * time.Second
	}
	if cmd.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339Nano, cmd.ExpiresAt)
		if err != nil {
			return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, "expiresAt: "+err.Error())
		}
		o.ExpiresAt = t
	}
	if cmd.Data != nil {
		o.Data = []byte(*cmd.Data)
	}
	res, err := a.client.Stream(cmd.Path).Create(ctx, o)
	if err != nil {
		return failure(cmd.Type, err)
	}
	a.contentType[cmd.Path] = ct
	status := 200
	if res.Created {
		status = 201
	}
	return result{"type": cmd.Type, "success": true, "status": status, "offset": res.NextOffset}
}

func (a *adapter) head(ctx context.Context, cmd command) result {
	m, err := a.client.Stream(cmd.Path).Head(ctx)
	if err != nil {
		return failure(cmd.Type, err)
	}
	if m.ContentType != "" {
		a.contentType[cmd.Path] = m.ContentType
	}
	r := result{"type": cmd.Type, "success": true, "status": 200, "offset": m.NextOffset}
	if cmd.Type == "head" {
		r["contentType"] = m.ContentType
		r["streamClosed"] = m.Closed
		if m.TTL > 0 {
			r["ttlSeconds"] = int64(m.TTL / time.Second)
		}
		if m.ExpiresAt != "" {
			r["expiresAt"] = m.ExpiresAt
		}
	}
	return r
}

// dataBytes returns the command's data: the bytes of its base64 text when
// it is binary.
func dataBytes(cmd command) ([]byte, error) {
	if cmd.Data == nil {
		return nil, nil
	}
	if cmd.Binary {
		data, err := base64.StdEncoding.DecodeString(*cmd.Data)
		if err != nil {
			return nil, fmt.Errorf("binary data: %w", err)
		}
		return data, nil
	}
	return []byte(*cmd.Data), nil
}

func (a *adapter) append(ctx context.Context, cmd command) result {
	headers, params := a.evalDynamic(cmd)
	data, err := dataBytes(cmd)
	if err != nil {
		return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, err.Error())
	}
	opts := []durable.AppendOption{durable.WithAtLeastOnce()}
	if cmd.Seq != nil {
		opts = append(opts, durable.WithSeq(cmd.Seq.String()))
	}
	s := a.streamOf(cmd.Path)
	if len(data) == 0 {
		// The client refuses an empty append before sending it; the
		// runner wants the server's answer, so the generated client
		// underneath sends it as it is.
		var ae *runtime.APIError
		_, err := a.client.API().Append(ctx, s.Path(), durablestreams.AppendParams{ContentType: runtime.Some(s.ContentType())}, nil)
		if errors.As(err, &ae) {
			return errorResult(cmd.Type, "UNEXPECTED_STATUS", ae.StatusCode, "append "+cmd.Path+": "+err.Error())
		}
		if err != nil {
			return errorResult(cmd.Type, "NETWORK_ERROR", 0, "append "+cmd.Path+": "+err.Error())
		}
		return errorResult(cmd.Type, "UNEXPECTED_STATUS", 0, "append "+cmd.Path+": the server accepted an empty append")
	}
	next, err := s.Append(ctx, data, opts...)
	if err != nil {
		return failure(cmd.Type, err)
	}
	r := result{"type": cmd.Type, "success": true, "status": 200, "offset": next}
	withDynamic(r, headers, params)
	return r
}

func withDynamic(r result, headers, params map[string]string) {
	if len(headers) > 0 {
		r["headersSent"] = headers
	}
	if len(params) > 0 {
		r["paramsSent"] = params
	}
}

func (a *adapter) close(ctx context.Context, cmd command) result {
	s := a.streamOf(cmd.Path)
	if cmd.ContentType != "" {
		s = s.WithContentType(cmd.ContentType)
	}
	var final []byte
	if cmd.Data != nil {
		final = []byte(*cmd.Data)
	}
	off, err := s.Close(ctx, final)
	if err != nil {
		return failure(cmd.Type, err)
	}
	return result{"type": cmd.Type, "success": true, "status": 200, "finalOffset": off}
}

func (a *adapter) producer(cmd command, o durable.ProducerOptions) (*durable.Producer, error) {
	o.ID, o.Epoch, o.AutoClaim = cmd.ProducerID, cmd.Epoch, cmd.AutoClaim
	return a.streamOf(cmd.Path).Producer(o)
}

func (a *adapter) idempotentAppend(ctx context.Context, cmd command) result {
	key := producerKey{cmd.Path, cmd.ProducerID, cmd.Epoch}
	p := a.producers[key]
	if p == nil {
		var err error
		if p, err = a.producer(cmd, durable.ProducerOptions{MaxInFlight: 1, Linger: -1}); err != nil {
			return failure(cmd.Type, err)
		}
		a.producers[key] = p
	}
	data, err := dataBytes(cmd)
	if err != nil {
		return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, err.Error())
	}
	if err := p.Append(data); err != nil {
		return failure(cmd.Type, err)
	}
	if err := p.Flush(ctx); err != nil {
		return failure(cmd.Type, err)
	}
	return result{"type": cmd.Type, "success": true, "status": 200, "offset": p.Offset()}
}

func (a *adapter) idempotentBatch(ctx context.Context, cmd command) result {
	o := durable.ProducerOptions{MaxInFlight: 1, Linger: time.Second, MaxBatchBytes: 1 << 20}
	if cmd.MaxInFlight > 1 {
		o = durable.ProducerOptions{MaxInFlight: cmd.MaxInFlight, MaxBatchItems: 1, Linger: -1}
	}
	p, err := a.producer(cmd, o)
	if err != nil {
		return failure(cmd.Type, err)
	}
	defer p.Detach(ctx)
	for _, item := range cmd.Items {
		if err := p.Append([]byte(item)); err != nil {
			return failure(cmd.Type, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		return failure(cmd.Type, err)
	}
	return result{"type": cmd.Type, "success": true, "status": 200}
}

func (a *adapter) idempotentClose(ctx context.Context, cmd command) result {
	key := producerKey{cmd.Path, cmd.ProducerID, cmd.Epoch}
	p := a.producers[key]
	if p == nil {
		var err error
		if p, err = a.producer(cmd, durable.ProducerOptions{MaxInFlight: 1, Linger: -1}); err != nil {
			return failure(cmd.Type, err)
		}
		a.producers[key] = p
	}
	var final []byte
	if cmd.Data != nil {
		final = []byte(*cmd.Data)
	}
	off, err := p.Close(ctx, final)
	if err != nil {
		return failure(cmd.Type, err)
	}
	return result{"type": cmd.Type, "success": true, "status": 200, "finalOffset": off}
}

func (a *adapter) validate(cmd command) result {
	var t struct {
		Target        string `json:"target"`
		ProducerID    string `json:"producerId"`
		Epoch         *int64 `json:"epoch"`
		MaxBatchBytes *int   `json:"maxBatchBytes"`
		MaxBatchItems *int   `json:"maxBatchItems"`
	}
	if err := json.Unmarshal(cmd.Target, &t); err != nil {
		return errorResult(cmd.Type, "PARSE_ERROR", 0, "target: "+err.Error())
	}
	if t.Target != "idempotent-producer" {
		return errorResult(cmd.Type, "NOT_SUPPORTED", 0, "validation target "+strconv.Quote(t.Target)+" is not supported")
	}
	o := durable.ProducerOptions{ID: t.ProducerID}
	if o.ID == "" {
		o.ID = "validate"
	}
	if t.Epoch != nil {
		o.Epoch = *t.Epoch
	}
	if t.MaxBatchBytes != nil {
		o.MaxBatchBytes = *t.MaxBatchBytes
	}
	if t.MaxBatchItems != nil {
		o.MaxBatchItems = *t.MaxBatchItems
	}
	if err := o.Validate(); err != nil {
		return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, err.Error())
	}
	return result{"type": cmd.Type, "success": true}
}

// errorResult is an error line.
func errorResult(typ, code string, status int, msg string) result {
	r := result{"type": "error", "success": false, "commandType": typ, "errorCode": code, "message": msg}
	if status != 0 {
		r["status"] = status
	}
	return r
}

// failure maps an error of the durable package to an error line.
func failure(typ string, err error) result {
	var de *durable.Error
	status := 0
	if errors.As(err, &de) {
		status = de.StatusCode
	}
	code := "UNEXPECTED_STATUS"
	switch {
	case errors.Is(err, durable.ErrNotFound):
		code = "NOT_FOUND"
	case errors.Is(err, durable.ErrClosed):
		code = "STREAM_CLOSED"
	case errors.Is(err, durable.ErrSeqConflict):
		code = "SEQUENCE_CONFLICT"
	case errors.Is(err, durable.ErrExists), errors.Is(err, durable.ErrContentType):
		code = "CONFLICT"
	case errors.Is(err, durable.ErrInvalidOffset):
		code = "INVALID_OFFSET"
	case errors.Is(err, durable.ErrProtocol):
		code, status = "PARSE_ERROR", 0
	case errors.Is(err, durable.ErrInvalidArgument):
		code = "INVALID_ARGUMENT"
	case errors.Is(err, context.DeadlineExceeded):
		code = "TIMEOUT"
	case errors.Is(err, durable.ErrNetwork):
		code = "NETWORK_ERROR"
	case status == 0:
		code = "INTERNAL_ERROR"
	}
	return errorResult(typ, code, status, err.Error())
}

// runtimeParams adds the current command's dynamic query parameters to
// every request.
func runtimeParams(a *adapter) runtime.Option {
	return runtime.WithMiddleware(func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			a.mu.Lock()
			params := a.params
			a.mu.Unlock()
			if len(params) > 0 {
				q := r.URL.Query()
				for k, v := range params {
					q.Set(k, v)
				}
				r.URL.RawQuery = q.Encode()
			}
			return next(r)
		}
	})
}
