package runtime

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorBody bounds how much of a non-2xx body is kept in an APIError.
const maxErrorBody = 1 << 20

// newHTTPClient returns the *http.Client a Client uses unless given one: its
// own connection pool sized for many concurrent calls to one host, HTTP/2
// when the server offers it, bounded dial (30 s), TLS handshake (10 s) and
// time to the response headers (30 s, so a server that accepts a request and
// never answers cannot hang a call whose context has no deadline), and TLS
// certificate verification on (the transport is built from scratch, so a
// process-wide change to http.DefaultTransport cannot turn it off).
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}}
}

// redirectPolicy removes credentials from a redirect to another origin
// (scheme, host or port differ from the original request's), then applies
// next, or net/http's default limit of 10 redirects. net/http itself keeps
// Authorization on a redirect to a subdomain or another port and forwards
// custom headers such as X-API-Key everywhere; this policy does not.
func redirectPolicy(auth *authScheme, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	var custom string
	if auth != nil && auth.header != "" && auth.header != "Authorization" {
		custom = auth.header
	}
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !sameOrigin(via[0].URL, req.URL) {
			for _, h := range [...]string{"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Auth-Token", "Cookie"} {
				req.Header.Del(h)
			}
			if custom != "" {
				req.Header.Del(custom)
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// call is the state of one Do.
type call struct {
	c      *Client
	cfg    *config
	req    *Request
	ctx    context.Context // the call's context (WithTimeout applied)
	parent context.Context // the caller's context
	u      url.URL         // request URL without credentials
	body   []byte          // the request body when it is in memory (Body, or a BodyStream taken whole)
	stream *streamBody     // non-nil for any other BodyStream body
	open   bool            // Open: a 2xx body is left open for the caller
	safe   bool            // the request may be repeated (RetrySafe or WithRetrySafe)
}

// attempt is the outcome of one attempt.
type attempt struct {
	n        int
	resp     *http.Response
	body     *bytes.Buffer // the response body read so far (pooled)
	err      error         // transport failure, or nil
	readErr  error         // failure while reading the body, or nil
	tooLarge bool          // the body exceeded the limit
	gotConn  bool          // a connection was obtained: the request may have been sent
	fatal    error         // an error that ends the call before sending (token source)
}

func (c *Client) do(ctx context.Context, cfg *config, req *Request, result any) error {
	if req == nil {
		return errors.New("runtime: nil Request")
	}
	_, open := result.(**http.Response)
	k := call{c: c, cfg: cfg, req: req, parent: ctx, ctx: ctx, open: open, safe: req.RetrySafe || cfg.retrySafe}
	if cfg.timeout > 0 && !open {
		var cancel context.CancelFunc
		k.ctx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	k.u = *c.base
	k.u.Path = c.base.Path + req.Path
	if c.base.RawPath != "" || strings.IndexByte(req.Path, '%') >= 0 {
		k.u.RawPath = c.base.EscapedPath() + req.Path
		if p, err := url.PathUnescape(k.u.RawPath); err == nil {
			k.u.Path = p
		}
	}
	if len(req.Query) > 0 {
		k.u.RawQuery = req.Query.Encode()
	}
	k.body = req.Body
	if req.Body == nil && req.BodyStream != nil {
		if k.body = inMemoryBody(req.BodyStream); k.body == nil {
			s, err := newStreamBody(req.BodyStream)
			if err != nil {
				return fmt.Errorf("%s: request body: %w", req.OperationID, err)
			}
			k.stream = s
		}
	}
	var last error
	for n := 1; ; n++ {
		a := attempt{n: n}
		if b := cfg.breaker; b != nil {
			if err := b.run(func() outcome { return k.send(&a) }); err != nil {
				var open *CircuitOpenError
				if errors.As(err, &open) {
					open.Last = last
				}
				k.log(&a, 0, err)
				return fmt.Errorf("%s: %w", req.OperationID, err)
			}
		} else {
			k.send(&a)
		}
		retry, wait, err := k.finish(&a, result)
		if a.body != nil {
			c.putBuffer(a.body)
		}
		if err == nil || !retry {
			return err
		}
		last = err
		if b := cfg.breaker; b != nil && b.State() == CircuitOpen {
			open := &CircuitOpenError{RetryAt: time.Unix(0, b.retryAt.Load()), Last: last}
			k.logRetry(n, 0, "not retrying: circuit breaker open")
			return fmt.Errorf("%s: %w", req.OperationID, open)
		}
		if dl, ok := k.ctx.Deadline(); ok && time.Until(dl) < wait {
			k.logRetry(n, wait, "not retrying: the context ends before the wait would")
			return err
		}
		k.logRetry(n, wait, "retrying")
		if werr := cfg.wait(k.ctx, wait); werr != nil {
			return fmt.Errorf("%w (while waiting to retry after: %w)", werr, last)
		}
		if k.stream != nil && !k.stream.rewind() {
			return err
		}
	}
}

// send makes one attempt: it builds and sends the request and reads the
// response body, all within the attempt's timeout. It returns what the
// attempt tells the circuit breaker.
func (k *call) send(a *attempt) outcome {
	cfg := k.cfg
	ctx := k.ctx
	if k.open {
		return k.sendOpen(a)
	}
	if d := cfg.attemptTimeout; d > 0 {
		// A context that ends sooner anyway needs no timer of its own.
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > d {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	var traced *atomic.Bool
	if !k.safe && cfg.retry.MaxRetries > 0 {
		// Only a request that is not safe to retry needs proof that it
		// was never sent; tracing costs allocations, so the others skip it.
		traced = new(atomic.Bool)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { traced.Store(true) },
		})
	}
	hreq, err := k.newHTTPRequest(ctx)
	if err != nil {
		a.fatal = err
		return outcomeExcluded
	}
	start := time.Now()
	resp, err := cfg.send(hreq)
	if k.stream != nil {
		defer k.stream.endAttempt()
	}
	a.gotConn = traced == nil || traced.Load()
	if err != nil {
		return k.sendFailed(a, start, resp, err)
	}
	k.received(a, cfg, resp)
	limit := cfg.maxBodyBytes
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	}
	a.body = k.c.getBuffer()
	a.tooLarge, a.readErr = readBody(a.body, resp, limit)
	resp.Body.Close()
	k.log(a, time.Since(start), a.readErr)
	switch {
	case a.readErr != nil && k.parent.Err() != nil:
		return outcomeExcluded
	case a.readErr != nil, resp.StatusCode >= 500:
		return outcomeFailure
	}
	return outcomeSuccess
}

// finish turns an attempt into the call's error (nil on success, decoding
// the body into result) and says whether to retry and after how long.
// sendFailed records err, the failure of attempt a sent at start, closing
// resp if there is one, and says what it tells the breaker.
func (k *call) sendFailed(a *attempt, start time.Time, resp *http.Response, err error) outcome {
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	a.err = err
	k.log(a, time.Since(start), err)
	if k.parent.Err() != nil || permanent(err) {
		return outcomeExcluded
	}
	return outcomeFailure
}

// received records resp as the response of attempt a.
func (k *call) received(a *attempt, cfg *config, resp *http.Response) {
	a.resp = resp
	if cfg.responseInto != nil {
		*cfg.responseInto = resp
	}
}

func (k *call) finish(a *attempt, result any) (retry bool, wait time.Duration, err error) {
	req, p := k.req, &k.cfg.retry
	canRetry := a.n <= p.MaxRetries && (k.stream == nil || k.stream.rewindable())
	switch {
	case a.fatal != nil:
		return false, 0, a.fatal
	case a.err != nil:
		err = k.transportError(a, a.err)
		if k.ctx.Err() != nil || !canRetry || (!k.safe && a.gotConn) || permanent(a.err) {
			return false, 0, err
		}
		return true, p.backoff(a.n), err
	}
	status := a.resp.StatusCode
	if status >= 200 && status <= 299 && k.open {
		*result.(**http.Response) = a.resp
		return false, 0, nil
	}
	if status >= 200 && status <= 299 {
		if a.readErr != nil {
			// A body cut short by the server is a broken response; one cut
			// short by a timeout or cancellation is a transport failure.
			if k.ctx.Err() != nil || errors.Is(a.readErr, context.DeadlineExceeded) || errors.Is(a.readErr, context.Canceled) {
				err = k.transportError(a, a.readErr)
			} else {
				err = k.protocolError(a, "reading the response body", a.readErr)
			}
			if k.ctx.Err() != nil || !canRetry || !k.safe {
				return false, 0, err
			}
			return true, p.backoff(a.n), err
		}
		if a.tooLarge {
			return false, 0, k.protocolError(a, "response body larger than the limit of "+strconv.FormatInt(k.cfg.maxBodyBytes, 10)+" bytes", ErrResponseTooLarge)
		}
		if req.Response != nil {
			var herr error
			if result, herr = req.Response(status, a.resp.Header); herr != nil {
				return false, 0, k.protocolError(a, "reading the response headers", herr)
			}
		}
		if r, ok := result.(*[]byte); ok && a.body.Cap() > maxPooledBuffer {
			// A buffer too large for the pool becomes the result as it
			// is, instead of being copied and dropped.
			*r = a.body.Bytes()
			a.body = nil
			return false, 0, nil
		}
		if err := decodeResult(a.body.Bytes(), status, req.Method == http.MethodHead, result); err != nil {
			return false, 0, k.protocolError(a, "decoding the response body", err)
		}
		return false, 0, nil
	}
	e := k.apiError(a)
	if !canRetry || !p.retriesStatus(status) || (!k.safe && !refusedStatus(status)) {
		return false, 0, e
	}
	wait = p.backoff(a.n)
	if ra, ok := e.RetryAfter(); ok {
		if ra > p.MaxDelay {
			return false, 0, e
		}
		wait = max(wait, ra)
	}
	return true, wait, e
}

// newHTTPRequest builds the attempt's *http.Request: URL, body, headers and
// credentials.
func (k *call) newHTTPRequest(ctx context.Context) (*http.Request, error) {
	cfg, req := k.cfg, k.req
	hreq, err := http.NewRequestWithContext(ctx, req.Method, "", nil)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", req.OperationID, err)
	}
	*hreq.URL = k.u
	hreq.Host = k.u.Host
	switch {
	case k.body != nil:
		hreq.ContentLength = int64(len(k.body))
		if len(k.body) == 0 {
			hreq.Body, hreq.GetBody = http.NoBody, noBody
		} else {
			body := k.body
			hreq.Body = io.NopCloser(bytes.NewReader(body))
			hreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	case k.stream != nil:
		hreq.Body = k.stream.forAttempt()
		hreq.ContentLength = k.stream.length
		if hreq.ContentLength == 0 {
			hreq.Body = http.NoBody
		}
	}
	h := hreq.Header
	for key, vs := range cfg.header {
		h[key] = vs
	}
	for key, vs := range req.Header {
		h[key] = vs
	}
	if _, set := req.Header["Content-Type"]; req.ContentType != "" && hreq.Body != nil && !set {
		// A Content-Type header parameter, when the operation has one and
		// the caller set it, says the body's type instead.
		h.Set("Content-Type", req.ContentType)
	}
	if req.Accept == "" {
		h["Accept"] = cfg.accept
	} else {
		h.Set("Accept", req.Accept)
	}
	if cfg.uaHdr != nil {
		h["User-Agent"] = cfg.uaHdr
	}
	if cfg.auth != nil {
		if err := cfg.auth.apply(ctx, hreq); err != nil {
			return nil, fmt.Errorf("%s: credentials: %w", req.OperationID, err)
		}
	}
	return hreq, nil
}

func noBody() (io.ReadCloser, error) { return http.NoBody, nil }

// permanent reports whether a transport failure will not go away by
// trying again: the server's certificate is not trusted, or the server
// does not speak TLS. Such failures are not retried and, being the
// client's configuration problem, do not count against the server in the
// circuit breaker.
func permanent(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		rh tls.RecordHeaderError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rh)
}

// readBody reads resp's body into buf, up to limit bytes. It reports
// whether the body was longer than limit.
//
// A body of known length is read into buf sized for it. One of unknown
// length (a compressed response, say) is read into buf while it has room,
// then into chunks of growing size, which are copied into buf once, at the
// end: growing buf instead would allocate, clear and copy it again at every
// doubling, which cost several times the read itself on large bodies.
// maxInitialBody is how much of a response's Content-Length readBody
// allocates before the body arrives.
const maxInitialBody = 16 << 20

func readBody(buf *bytes.Buffer, resp *http.Response, limit int64) (tooLarge bool, err error) {
	if n := resp.ContentLength; n > 0 && n <= limit {
		// Sized from the header up to maxInitialBody only: a header may
		// claim far more than the body holds, and the rest grows as it
		// arrives.
		buf.Grow(int(min(n, maxInitialBody)) + 1)
	}
	if buf.Available() < 512 {
		buf.Grow(512)
	}
	r := resp.Body
	var chunks [][]byte
	size := int64(buf.Len())
	for {
		var free []byte
		if len(chunks) == 0 && buf.Available() > 0 {
			free = buf.AvailableBuffer()
			free = free[:cap(free)]
		} else {
			last := len(chunks) - 1
			if last < 0 || len(chunks[last]) == cap(chunks[last]) {
				n := min(max(int(size/2), 32<<10), 4<<20)
				chunks = append(chunks, make([]byte, 0, n))
				last++
			}
			free = chunks[last][len(chunks[last]):cap(chunks[last])]
		}
		if rest := limit + 1 - size; int64(len(free)) > rest {
			free = free[:rest]
		}
		n, err := r.Read(free)
		if len(chunks) == 0 {
			buf.Write(free[:n])
		} else {
			last := len(chunks) - 1
			chunks[last] = chunks[last][:len(chunks[last])+n]
		}
		size += int64(n)
		if size > limit || err != nil {
			if len(chunks) > 0 {
				buf.Grow(int(min(size, limit+1)) - buf.Len())
				for _, c := range chunks {
					buf.Write(c)
				}
			}
			if size > limit {
				buf.Truncate(int(limit))
				return true, nil
			}
			if err == io.EOF {
				return false, nil
			}
			return false, err
		}
	}
}

// decodeResult decodes a 2xx body into result.
func decodeResult(data []byte, status int, head bool, result any) error {
	switch r := result.(type) {
	case nil:
		return nil
	case *[]byte:
		*r = bytes.Clone(data)
		return nil
	case *string:
		*r = string(data)
		return nil
	}
	if len(data) == 0 {
		if head || status == http.StatusNoContent || status == http.StatusResetContent {
			return nil
		}
		return errors.New("empty body")
	}
	if v, ok := result.(JSONDecoder); ok {
		// A generated type decodes itself in one pass, checking the JSON as
		// it goes; json.Unmarshal would first scan the whole body to
		// validate it, then hand it to the type's UnmarshalJSON.
		return DecodeJSONBytes(data, v)
	}
	return json.Unmarshal(data, result)
}

// apiError builds the *APIError of a non-2xx attempt.
func (k *call) apiError(a *attempt) *APIError {
	req, resp := k.req, a.resp
	e := &APIError{
		OperationID: req.OperationID,
		Method:      req.Method,
		URL:         k.redactedURL(),
		StatusCode:  resp.StatusCode,
		Header:      resp.Header,
		Body:        bytes.Clone(a.body.Bytes()),
		RequestID:   requestID(resp.Header),
		Attempts:    a.n,
		codes:       req.ErrorCodes,
	}
	if e.Body == nil {
		e.Body = []byte{}
	}
	e.parseErrorBody()
	if req.ErrorBody != nil {
		if v := req.ErrorBody(resp.StatusCode); v != nil && json.Unmarshal(e.Body, v) == nil {
			e.Detail = v
		}
	}
	return e
}

// protocolError builds the *ProtocolError of a 2xx attempt.
func (k *call) protocolError(a *attempt, reason string, err error) error {
	return &ProtocolError{
		OperationID: k.req.OperationID,
		Method:      k.req.Method,
		URL:         k.redactedURL(),
		StatusCode:  a.resp.StatusCode,
		Reason:      reason,
		Err:         err,
	}
}

// transportError wraps a transport failure with the operation and a
// redacted URL, keeping the underlying error reachable.
func (k *call) transportError(a *attempt, err error) error {
	ue := &url.Error{Op: methodOp(k.req.Method), URL: k.redactedURL(), Err: err}
	var inner *url.Error
	if errors.As(err, &inner) {
		ue.Op, ue.Err = inner.Op, inner.Err
	}
	if a.n > 1 {
		return fmt.Errorf("%s: %w (after %d attempts)", k.req.OperationID, ue, a.n)
	}
	return fmt.Errorf("%s: %w", k.req.OperationID, ue)
}

// methodOp spells a method the way net/http's *url.Error does ("Get").
func methodOp(m string) string {
	if m == "" {
		return "Get"
	}
	return m[:1] + strings.ToLower(m[1:])
}

// sensitiveParams are query parameter names whose values never appear in
// errors or logs.
func sensitiveParam(name string) bool {
	switch strings.ToLower(name) {
	case "api_key", "apikey", "api-key", "key", "token", "access_token", "auth", "authorization",
		"password", "secret", "client_secret", "sig", "signature", "jwt":
		return true
	}
	return false
}

// redactedURL returns the request URL without user info, and with the
// values of credential query parameters replaced.
func (k *call) redactedURL() string {
	u := k.u
	u.User = nil
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = "REDACTED"
		} else {
			changed := false
			for name, vs := range q {
				if sensitiveParam(name) || (k.cfg.auth != nil && k.cfg.auth.query == name) {
					for i := range vs {
						vs[i] = "REDACTED"
					}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	return u.String()
}

// log writes one attempt at debug level.
func (k *call) log(a *attempt, d time.Duration, err error) {
	l := k.cfg.logger
	if l == nil || !l.Enabled(k.ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", k.req.OperationID),
		slog.String("method", k.req.Method),
		slog.String("url", k.redactedURL()),
		slog.Int("attempt", a.n),
	}
	if a.resp != nil {
		attrs = append(attrs, slog.Int("status", a.resp.StatusCode))
		if id := requestID(a.resp.Header); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	if d > 0 {
		attrs = append(attrs, slog.Duration("duration", d))
	}
	if err != nil {
		var msg string
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error() // the URL in a *url.Error may carry credentials
		} else {
			msg = err.Error()
		}
		attrs = append(attrs, slog.String("error", msg))
	}
	l.LogAttrs(k.ctx, slog.LevelDebug, "runtime: attempt", attrs...)
}

// logRetry writes a retry decision at debug level.
func (k *call) logRetry(n int, wait time.Duration, decision string) {
	l := k.cfg.logger
	if l == nil || !l.Enabled(k.ctx, slog.LevelDebug) {
		return
	}
	l.LogAttrs(k.ctx, slog.LevelDebug, "runtime: "+decision,
		slog.String("op", k.req.OperationID),
		slog.Int("attempt", n),
		slog.Duration("wait", wait))
}

func (c *Client) getBuffer() *bytes.Buffer {
	if b, ok := c.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// maxPooledBuffer is the largest response buffer kept for reuse.
const maxPooledBuffer = 1 << 20

func (c *Client) putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	c.bufs.Put(b)
}

// maxCopiedBody is the largest *bytes.Reader or *strings.Reader body that
// is copied to be sent like an in-memory body.
const maxCopiedBody = 64 << 10

// inMemoryBody returns the rest of a BodyStream whose content is in memory,
// consuming it, or nil for any other stream: a *bytes.Buffer's bytes as
// they are, and a copy of a small *bytes.Reader's or *strings.Reader's.
//
// Such a body is sent like Request.Body: each attempt reads it through its
// own reader (no attempt can disturb the next), and net/http writes the
// headers and a small body together. Through any other reader it flushes
// the headers first, which costs the server a second read of every request
// (and the request a round of its event loop on some servers).
func inMemoryBody(r io.Reader) []byte {
	var data []byte
	switch b := r.(type) {
	case *bytes.Buffer:
		data = b.Next(b.Len())
	case *bytes.Reader:
		if b.Len() > maxCopiedBody {
			return nil
		}
		data = make([]byte, b.Len())
		_, _ = b.Read(data)
	case *strings.Reader:
		if b.Len() > maxCopiedBody {
			return nil
		}
		data = make([]byte, b.Len())
		_, _ = b.Read(data)
	default:
		return nil
	}
	if data == nil {
		data = []byte{}
	}
	return data
}

// streamBody lets a streamed request body be re-sent: each attempt reads it
// through a gate that closes when the attempt ends, so that a transport
// goroutine still reading an abandoned attempt's body cannot race with the
// rewind of the next.
type streamBody struct {
	mu     sync.Mutex
	r      io.Reader
	seeker io.Seeker // nil when r cannot seek
	start  int64
	length int64 // the body's length, or -1 when unknown
	read   int64 // bytes read across attempts since the last rewind
	gate   *bodyGate
}

func newStreamBody(r io.Reader) (*streamBody, error) {
	s := &streamBody{r: r, length: -1}
	if l, ok := r.(interface{ Len() int }); ok {
		s.length = int64(l.Len())
	}
	if sk, ok := r.(io.Seeker); ok {
		pos, err := sk.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		s.seeker, s.start = sk, pos
	}
	return s, nil
}

// forAttempt returns the body reader of a new attempt.
func (s *streamBody) forAttempt() io.ReadCloser {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = &bodyGate{s: s}
	return s.gate
}

// endAttempt closes the current attempt's gate.
func (s *streamBody) endAttempt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		s.gate.closed = true
	}
}

// rewindable reports whether the body can be sent again.
func (s *streamBody) rewindable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seeker != nil || s.read == 0
}

// rewind prepares the body for the next attempt.
func (s *streamBody) rewind() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read == 0 {
		return true
	}
	if s.seeker == nil {
		return false
	}
	if _, err := s.seeker.Seek(s.start, io.SeekStart); err != nil {
		return false
	}
	s.read = 0
	return true
}

type bodyGate struct {
	s      *streamBody
	closed bool // guarded by s.mu
}

var errAttemptOver = errors.New("runtime: request body read after its attempt ended")

func (g *bodyGate) Read(p []byte) (int, error) {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	if g.closed {
		return 0, errAttemptOver
	}
	n, err := g.s.r.Read(p)
	g.s.read += int64(n)
	return n, err
}

func (g *bodyGate) Close() error { return nil }
