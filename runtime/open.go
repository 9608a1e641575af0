package runtime

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Open sends req like Do (options, retries, circuit breaker and error
// handling alike) but leaves the body of a 2xx response unread: it returns
// the response, whose Body the caller reads as it arrives and must close.
// Retries happen only before a 2xx response arrives. WithTimeout and
// WithAttemptTimeout bound the wait for the response headers, not the
// reading of the body, which ends when ctx ends or the body is closed.
func (c *Client) Open(ctx context.Context, req *Request, opts ...Option) (*http.Response, error) {
	var resp *http.Response
	if err := c.Do(ctx, req, &resp, opts...); err != nil {
		return nil, err
	}
	return resp, nil
}

// sendOpen is send for Open: a 2xx response keeps its body open, with the
// attempt's context ended when the body is closed.
func (k *call) sendOpen(a *attempt) outcome {
	cfg := k.cfg
	ctx, cancel := context.WithCancel(k.ctx)
	var timer *time.Timer
	if d := headerTimeout(cfg); d > 0 {
		timer = time.AfterFunc(d, cancel)
	}
	hreq, err := k.newHTTPRequest(ctx)
	if err != nil {
		cancel()
		a.fatal = err
		return outcomeExcluded
	}
	start := time.Now()
	resp, err := cfg.send(hreq)
	if k.stream != nil {
		k.stream.endAttempt()
	}
	if timer != nil && !timer.Stop() && err == nil {
		// The timeout fired as the headers arrived: the body is cut.
		resp.Body.Close()
		resp, err = nil, context.DeadlineExceeded
	}
	a.gotConn = true
	if err != nil {
		cancel()
		return k.sendFailed(a, start, resp, err)
	}
	k.received(a, cfg, resp)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		k.log(a, time.Since(start), nil)
		return outcomeSuccess
	}
	defer cancel()
	a.body = k.c.getBuffer()
	a.tooLarge, a.readErr = readBody(a.body, resp, maxErrorBody)
	resp.Body.Close()
	k.log(a, time.Since(start), a.readErr)
	if a.readErr != nil || resp.StatusCode >= 500 {
		return outcomeFailure
	}
	return outcomeSuccess
}

// headerTimeout is how long Open waits for the response headers.
func headerTimeout(cfg *config) time.Duration {
	d := cfg.timeout
	if a := cfg.attemptTimeout; a > 0 && (d == 0 || a < d) {
		d = a
	}
	return d
}

// cancelBody ends the attempt's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	once   sync.Once
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}
