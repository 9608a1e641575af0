package projection

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/go-faster/jx"

	"github.com/allsource-go/allsource/runtime"
)

// appendRecord appends the JSON encoding of r, as encoding/json would
// write it but with map members in no particular order: sorting the keys
// of a delta with thousands of entries cost a checkpoint more than the
// rest of its encoding. The encoded values in r (State, Entries) are
// written as they are; the worker produces them with encoding/json.
func appendRecord(b []byte, r *record) []byte {
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, int64(r.Format), 10)
	b = append(b, `,"consumer":`...)
	b = appendString(b, r.Consumer)
	if len(r.EventTypes) > 0 {
		b = append(b, `,"event_types":[`...)
		for i, t := range r.EventTypes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	b = append(b, `,"position":`...)
	b = strconv.AppendInt(b, r.Position, 10)
	// The sizes of the maps come first, so that a reader can size them.
	nVersions, nEntries := len(r.Versions), len(r.Entries)
	if r.members != nil {
		nVersions, nEntries = r.members.nVersions, r.members.nEntries
	}
	b = append(b, `,"n_versions":`...)
	b = strconv.AppendInt(b, int64(nVersions), 10)
	if r.Keyed {
		b = append(b, `,"n_entries":`...)
		b = strconv.AppendInt(b, int64(nEntries), 10)
	}
	b = append(b, `,"versions":{`...)
	if r.members != nil {
		b = append(b, r.members.versions...)
	}
	first := r.members == nil || r.members.nVersions == 0
	for k, v := range r.Versions {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = strconv.AppendInt(b, v, 10)
	}
	b = append(b, `},"applied":`...)
	b = strconv.AppendInt(b, r.Applied, 10)
	b = append(b, `,"saved_at":"`...)
	b = r.SavedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if len(r.State) > 0 {
		b = append(b, `,"state":`...)
		b = append(b, r.State...)
	}
	if r.Keyed {
		b = append(b, `,"keyed":true,"entries":{`...)
		if r.members != nil {
			b = append(b, r.members.entries...)
		}
		first := r.members == nil || r.members.nEntries == 0
		for k, v := range r.Entries {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			b = append(b, v...)
		}
		b = append(b, '}')
		if len(r.Deleted) > 0 {
			b = append(b, `,"deleted":[`...)
			for i, k := range r.Deleted {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
			}
			b = append(b, ']')
		}
	}
	if r.Delta {
		b = append(b, `,"delta":true`...)
	}
	if r.Live != 0 {
		b = append(b, `,"live":`...)
		b = strconv.AppendInt(b, r.Live, 10)
	}
	if r.Through != 0 {
		b = append(b, `,"through":`...)
		b = strconv.AppendInt(b, r.Through, 10)
	}
	if r.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, r.Seq, 10)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString[T string | []byte](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(string(s)) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// encodeRecord encodes r, checking the encoded values it holds.
func encodeRecord(r *record) ([]byte, error) { return encodeRecordTo(nil, r) }

// encodeRecordTo is encodeRecord, in b's room when it has enough.
func encodeRecordTo(b []byte, r *record) ([]byte, error) {
	if len(r.State) > 0 && !json.Valid(r.State) {
		return nil, &json.UnsupportedValueError{Str: "snapshot state is not valid JSON"}
	}
	size := 256 + 48*(len(r.Versions)+len(r.Entries))
	if r.members != nil {
		size += len(r.members.versions) + len(r.members.entries)
	}
	if cap(b) < size {
		b = make([]byte, 0, size)
	}
	return appendRecord(b[:0], r), nil
}

// parseRecord decodes a record written by appendRecord (or by
// encoding/json) in one pass with the runtime's JSON reader, as generated
// types decode themselves: a compaction reads every record of a chain, and
// encoding/json took several times as long over maps of a million
// entries. The state and the entries alias data.
func parseRecord(data []byte) (record, error) { return parseRecordRoom(data, 0, 0) }

// recordVisitor receives the members of a record's versions and entries,
// and its deleted keys, as parseRecordVisit reads them, in place of the
// record's maps and list. The keys are valid only during the call.
type recordVisitor struct {
	version func(key []byte, v int64)
	entry   func(key []byte, raw json.RawMessage)
	deleted func(key string)
}

// parseRecordRoom is parseRecord with room in the maps for up to extra
// more entries, but no more than total in all (when total > 0),
// entries, which merging deltas into them will add.
func parseRecordRoom(data []byte, extra, total int) (record, error) {
	return parseRecordVisit(data, extra, total, nil)
}

// parseRecordVisit is parseRecordRoom, handing the members of the
// versions and entries, and the deleted keys, to visit instead when it is
// not nil.
func parseRecordVisit(data []byte, extra, total int, visit *recordVisitor) (record, error) {
	d := runtime.JSONReader{Alias: true}
	d.ResetBytes(data)
	room := func(n int64) int {
		h := sizeHint(n, len(data))
		if total > 0 {
			return max(h, min(h+extra, total))
		}
		return h + extra
	}
	var r record
	var nVersions, nEntries int64 // the maps' sizes, when written first
	strs := func(p *[]string) error {
		if d.Next() == jx.Null {
			*p = nil
			return d.Null()
		}
		it, err := d.ArrIter()
		out := []string{}
		for err == nil && it.Next() {
			var s string
			s, err = runtime.DecodeJSONString(&d)
			out = append(out, s)
		}
		if err == nil {
			err = it.Err()
		}
		*p = out
		return err
	}
	boolean := func(p *bool) error {
		v, err := d.Bool()
		*p = v
		return err
	}
	integer := func(p *int64) error {
		v, err := runtime.DecodeJSONInt64(&d)
		*p = v
		return err
	}
	it, err := d.ObjIter()
	if err != nil {
		return record{}, err
	}
	for err == nil && it.Next() {
		key := it.Key()
		switch string(key) {
		case "format":
			var n int64
			err = integer(&n)
			r.Format = int(n)
		case "consumer":
			r.Consumer, err = runtime.DecodeJSONString(&d)
		case "event_types":
			err = strs(&r.EventTypes)
		case "position":
			err = integer(&r.Position)
		case "n_versions":
			err = integer(&nVersions)
		case "n_entries":
			err = integer(&nEntries)
		case "versions":
			if d.Next() == jx.Null {
				err = d.Null()
				break
			}
			if visit == nil {
				r.Versions = make(map[string]int64, room(nVersions))
			}
			var m runtime.JSONObjIter
			m, err = d.ObjIter()
			for err == nil && m.Next() {
				var v int64
				if v, err = runtime.DecodeJSONInt64(&d); err != nil {
					break
				}
				if visit != nil {
					visit.version(m.Key(), v)
				} else {
					r.Versions[runtime.JSONKey(m.Key())] = v
				}
			}
			if err == nil {
				err = m.Err()
			}
		case "applied":
			err = integer(&r.Applied)
		case "saved_at":
			err = runtime.DecodeJSONTime(&d, &r.SavedAt)
		case "state":
			var v json.RawMessage
			if v, err = runtime.DecodeJSONRaw(&d); err == nil && string(v) != "null" {
				r.State = v
			}
		case "keyed":
			err = boolean(&r.Keyed)
		case "entries":
			if d.Next() == jx.Null {
				err = d.Null()
				break
			}
			if visit == nil {
				r.Entries = make(map[string]json.RawMessage, room(nEntries))
			}
			var m runtime.JSONObjIter
			m, err = d.ObjIter()
			for err == nil && m.Next() {
				var v json.RawMessage
				if v, err = runtime.DecodeJSONRaw(&d); err != nil {
					break
				}
				if visit != nil {
					visit.entry(m.Key(), v)
				} else {
					r.Entries[runtime.JSONKey(m.Key())] = v
				}
			}
			if err == nil {
				err = m.Err()
			}
		case "deleted":
			err = strs(&r.Deleted)
			if visit != nil {
				for _, k := range r.Deleted {
					visit.deleted(k)
				}
				r.Deleted = nil
			}
		case "delta":
			err = boolean(&r.Delta)
		case "through":
			err = integer(&r.Through)
		case "seq":
			err = integer(&r.Seq)
		case "live":
			err = integer(&r.Live)
		default:
			err = d.Skip()
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", runtime.JSONKey(key), err)
		}
	}
	if err == nil {
		err = it.Err()
	}
	if err == nil {
		err = runtime.DecodeJSONEnd(&d)
	}
	if err != nil {
		return record{}, err
	}
	return r, nil
}

// sizeHint bounds a map size read from a record by what a record of size
// bytes can hold (a member takes at least 4 bytes), so that a corrupt size
// cannot make a reader allocate without bound.
func sizeHint(n int64, size int) int {
	return int(max(0, min(n, int64(size/4))))
}
