package coretest

import (
	"bytes"
	"net"
	"testing"
)

// recordingConn records the writes that reach it.
type recordingConn struct {
	net.Conn
	writes [][]byte
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

// A corked connection holds writes back until uncork, sends them in one
// write, and never holds back more than corkLimit bytes.
func TestCorkConn(t *testing.T) {
	rec := &recordingConn{}
	c := &corkConn{Conn: rec}
	c.Write([]byte("a"))
	c.cork()
	c.Write([]byte("b"))
	c.Write([]byte("c"))
	if len(rec.writes) != 1 {
		t.Fatalf("corked writes reached the socket: %q", rec.writes)
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 2 || string(rec.writes[1]) != "bc" {
		t.Fatalf("writes %q, want a then bc", rec.writes)
	}
	c.Write([]byte("d"))
	c.cork()
	big := bytes.Repeat([]byte("x"), corkLimit/2+1)
	c.Write(big)
	c.Write(big)
	if len(rec.writes) != 4 || len(rec.writes[3]) != len(big)*2 {
		t.Fatalf("a burst past the limit was not written out: %d writes", len(rec.writes))
	}
	if err := c.uncork(); err != nil || len(rec.writes) != 4 {
		t.Fatalf("uncork after the limit: %v, %d writes", err, len(rec.writes))
	}
}
