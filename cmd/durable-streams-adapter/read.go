package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/allsource-go/allsource/durable"
)

// read runs a read command: chunks until the first stop condition.
func (a *adapter) read(cmd command) result {
	headers, params := a.evalDynamic(cmd)
	o := durable.ReadOptions{Offset: durable.OffsetStart}
	if cmd.Offset != nil {
		o.Offset = *cmd.Offset
	}
	live := strings.Trim(string(cmd.Live), `"`)
	switch live {
	case "", "false", "null":
		o.Live = durable.LiveOff
	case "true":
		o.Live = durable.LiveAuto
	case "long-poll":
		o.Live = durable.LiveLongPoll
	case "sse":
		o.Live = durable.LiveSSE
	default:
		return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, "live mode "+live+" is not known")
	}
	if cmd.Encoding != nil {
		// The client sends no encoding parameter: over SSE it decodes the
		// base64 the server sends for a binary stream by itself. So an
		// encoding is taken only where it says what happens anyway.
		ct := strings.ToLower(a.contentType[cmd.Path])
		switch {
		case *cmd.Encoding != "base64":
			return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, "read "+cmd.Path+": encoding "+strconv.Quote(*cmd.Encoding)+" is not known (only base64 is)")
		case o.Live != durable.LiveSSE:
			return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, "read "+cmd.Path+": the base64 encoding applies to SSE reads only (live=sse)")
		case strings.HasPrefix(ct, "text/") || durable.IsJSON(ct):
			return errorResult(cmd.Type, "INVALID_ARGUMENT", 0, "read "+cmd.Path+": the base64 encoding applies to binary streams only, not to "+ct)
		}
	}
	timeout := 5 * time.Second
	if cmd.TimeoutMs != nil {
		timeout = time.Duration(*cmd.TimeoutMs) * time.Millisecond
	}
	maxChunks := 100
	if cmd.MaxChunks != nil {
		maxChunks = *cmd.MaxChunks
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s := a.client.Stream(cmd.Path)
	if ct := a.contentType[cmd.Path]; ct != "" {
		s = s.WithContentType(ct)
	}
	chunks := []map[string]any{}
	offset, upToDate, closed, cursor := o.Offset, false, false, ""
	timedOut := false
	for ch, err := range s.Read(ctx, o) {
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				timedOut = true
				break
			}
			return failure(cmd.Type, err)
		}
		offset, cursor = ch.NextOffset, ch.Cursor
		upToDate, closed = ch.UpToDate, ch.Closed
		if len(ch.Data) > 0 {
			data := ch.Data
			if data[0] == '[' && durable.IsJSON(a.contentType[cmd.Path]) && json.Valid(data) {
				var b bytes.Buffer
				if json.Compact(&b, data) == nil {
					data = b.Bytes()
				}
			}
			chunk := map[string]any{"data": string(data), "offset": ch.NextOffset}
			if cmd.BinaryResponse {
				chunk["data"], chunk["binary"] = base64.StdEncoding.EncodeToString(data), true
			}
			chunks = append(chunks, chunk)
		}
		// Closed is true only when this chunk reached the end of a closed
		// stream, so a read cut by maxChunks reports false before it.
		if len(chunks) >= maxChunks || ch.Closed || (cmd.WaitForUpToDate && ch.UpToDate) {
			break
		}
	}
	status := 200
	if timedOut {
		upToDate = true
		if len(chunks) == 0 && o.Live == durable.LiveLongPoll {
			status = 204
		}
	}
	r := result{"type": "read", "success": true, "status": status, "chunks": chunks, "offset": offset, "upToDate": upToDate, "streamClosed": closed}
	if cursor != "" {
		r["cursor"] = cursor
	}
	withDynamic(r, headers, params)
	return r
}
