package coretest

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// A WebSocket library flushes every message to the socket, one system call
// per frame. While a stream sends a burst (a replay chunk, a backlog of
// live events) it corks its connection: writes collect in memory and go
// out in one write when it uncorks. Control frames written meanwhile (a
// pong, a close echo) wait at most until the end of the burst.

// corkConn is a net.Conn whose writes can be held back.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

// Write implements io.Writer.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		if len(c.buf) >= corkLimit {
			// A long burst goes out in pieces, not all at its end.
			_, err := c.Conn.Write(c.buf)
			c.buf = c.buf[:0]
			if err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// corkLimit is how many bytes a corked connection holds back at most.
const corkLimit = 64 << 10

// cork holds back writes until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was held back and lets writes through again.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// corkingWriter hands the WebSocket library a corkConn when it hijacks the
// connection.
type corkingWriter struct {
	http.ResponseWriter
	conn *corkConn
}

// Hijack implements http.Hijacker.
func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: c}
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, 32<<10)), nil
}
