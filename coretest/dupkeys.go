package coretest

import (
	"fmt"

	"github.com/go-faster/jx"
)

// members describes the members of a request body that Core deserializes
// into a struct: serde's derived deserializer refuses a struct member that
// appears twice (reference §14 #6), while unknown members, and members
// inside free-form values (payload, metadata, state), may repeat. A member
// mapped to a non-nil description holds an array of such structs.
type members map[string]members

// The struct members of the request bodies of Core's JSON operations.
var (
	ingestMembers   = members{"event_type": nil, "entity_id": nil, "payload": nil, "tenant_id": nil, "metadata": nil, "expected_version": nil}
	batchMembers    = members{"events": ingestMembers}
	stateMembers    = members{"state": nil}
	bulkGetMembers  = members{"entity_ids": nil}
	bulkSaveMembers = members{"states": {"entity_id": nil, "state": nil}}
	consumerMembers = members{"consumer_id": nil, "event_type_filters": nil}
	ackMembers      = members{"position": nil}
)

// duplicateMember returns the path and name of the first struct member that
// body repeats ("events[1]: duplicate field `entity_id`"), or "". A body
// that is not well-formed JSON is left to the decoder.
func duplicateMember(body []byte, m members) string {
	d := jx.DecodeBytes(body)
	if d.Next() != jx.Object {
		return ""
	}
	dup, _ := objectDuplicate(d, m, "")
	return dup
}

func objectDuplicate(d *jx.Decoder, m members, path string) (string, error) {
	var seen [8]string
	n := 0
	var dup string
	err := d.ObjBytes(func(d *jx.Decoder, key []byte) error {
		sub, known := m[string(key)]
		if !known || dup != "" {
			return d.Skip()
		}
		for _, k := range seen[:min(n, len(seen))] {
			if k == string(key) {
				dup = fmt.Sprintf("%sduplicate field `%s`", path, key)
				return d.Skip()
			}
		}
		if n < len(seen) {
			seen[n] = string(key)
		}
		n++
		if sub == nil || d.Next() != jx.Array {
			return d.Skip()
		}
		i := 0
		return d.Arr(func(d *jx.Decoder) error {
			defer func() { i++ }()
			if d.Next() != jx.Object || dup != "" {
				return d.Skip()
			}
			inner, err := objectDuplicate(d, sub, fmt.Sprintf("%s%s[%d]: ", path, key, i))
			if dup == "" {
				dup = inner
			}
			return err
		})
	})
	return dup, err
}
