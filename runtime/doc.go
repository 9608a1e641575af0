// Package runtime is the hand-written transport under every generated client:
// request building, authentication, retries with backoff and jitter, a circuit
// breaker, typed API errors, and the value types (Opt, Nullable) that generated
// structs use for optional and nullable fields.
//
// Generated packages import runtime; runtime imports nothing generated.
//
// # Options
//
// Options are layered: those given to New apply to every call, those given
// to a call (Client.Do, or a generated method) apply over them for that call
// only. A per-call credential or retry policy replaces the client's; per-call
// headers and middleware are added to the client's.
//
//	c, err := runtime.New("http://localhost:3900",
//		runtime.WithAPIKey(key),                    // Authorization: Bearer <key>
//		runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 5}),
//		runtime.WithLogger(slog.Default()),
//	)
//	err = c.Do(ctx, req, &out, runtime.WithTimeout(2*time.Second))
//
// Credentials: WithAPIKey and WithBearerToken (Authorization: Bearer),
// WithAPIKeyHeader (for example X-API-Key), WithAPIKeyQuery, WithBasicAuth,
// and WithTokenSource for credentials that change (asked once per attempt).
// The last credential option wins.
//
// Defaults: 3 retries (4 attempts) with 200 ms base delay and a 10 s cap;
// retried statuses 408, 429, 502, 503, 504; a circuit breaker per client
// that opens after 5 consecutive failed attempts for 30 s; no call or attempt
// timeout beyond the context's (set them with WithTimeout and
// WithAttemptTimeout), but the client's own transport gives up on a server
// that sends no response headers within 30 s; responses up to 64 MiB.
//
// # Retries and duplicates
//
// A request is retried only when sending it again cannot create a second
// effect on the server. Generated code sets Request.RetrySafe for GET, HEAD,
// PUT, DELETE and OPTIONS and for operations the spec marks x-retry-safe;
// those are retried after any transport failure and after a retried status.
// Any other request, a write above all, is retried only when
//   - no connection was obtained for the attempt (DNS failure, connection
//     refused, TLS handshake failure): the runtime watches for net/http's
//     GotConn trace event, which fires before the first byte of the request
//     is written, so its absence proves the server never saw the request;
//   - or the server refused it: 429 or 503.
//
// A connection reset after the request was written, an attempt timeout, 502
// and 504 all leave open whether the server stored the event, so they end
// the call: the SDK never creates a duplicate event by itself. Certificate
// failures are never retried.
//
// Waits use equal jitter (see RetryPolicy) and honour Retry-After (seconds
// or HTTP date) up to the cap; a server asking for longer than the cap, or
// longer than the context has left, gets no retry and the caller gets the
// response's RetryAfter. Cancelling the context ends a wait at once.
//
// # Circuit breaker
//
// Every attempt passes through the client's CircuitBreaker (sony/gobreaker's
// state machine). 5xx responses and transport failures count as failures;
// 1xx-4xx responses count as successes (the server is answering); attempts
// ended by the caller's context, and certificate failures, do not count. An
// open circuit fails fast with a *CircuitOpenError saying when it will let a
// probe through; half-open, it lets exactly one probe through and refuses
// the rest until the probe's outcome closes or re-opens it. A breaker may be
// shared by several clients (WithCircuitBreaker) and bypassed per call
// (WithCircuitBreaker(nil)).
//
// # Errors
//
// A non-2xx response is an *APIError carrying the status, the code and
// message parsed from the usual body shapes (JSON with "error" as a string or
// an object, "message", plain text), the body decoded into the operation's
// documented error schema (Detail), the raw body, the request's method and
// redacted URL, the request id and the attempt count. errors.Is matches it
// against ErrNotFound, ErrUnauthorized, ErrForbidden, ErrRateLimited and
// ErrConflict by status, and against the *ErrorCode sentinels a generated
// package declares for its API's error codes (x-error-codes), which may also
// move a code into another status class or out of any. The runtime knows no
// particular API: codes, their classes and the User-Agent come from the
// spec through the generated code. A 2xx body that is truncated, malformed
// or too large is a *ProtocolError (ErrProtocol), which SDK code also raises
// when a server breaks the contract in other ways. Transport failures stay wrapped: the
// *url.Error, net.Error, syscall errno or context error is reachable with
// errors.Is and errors.As.
//
// # Headers, statuses and streams
//
// Request.Response lets generated code read the status and the documented
// headers of a 2xx response (ResponseHeader, RequiredHeader and the Parse
// functions) and choose where the body goes; a required header that is
// missing or malformed is a *ProtocolError. Client.Open leaves a 2xx body
// open for the caller, with the same retries (before the response arrives)
// and errors as Do; timeouts then bound the wait for the headers only.
// StreamSSE and StreamRecords range over a text/event-stream or a JSON lines
// or JSON text sequence response as it arrives, with SSEReader and
// RecordReader, whose memory stays flat however long the stream.
//
// # Security
//
// Credentials never appear in an error, a log line or a client's printed
// form: URLs in errors and logs lose their user info and the values of
// credential query parameters, headers are never logged. On a redirect to
// another origin (scheme, host or port) the Authorization, X-API-Key and
// configured credential headers are removed, whatever *http.Client is used.
// The client's own transport verifies TLS certificates; only a caller's own
// *http.Client (WithHTTPClient) can change that.
package runtime
