package coretest

import (
	"fmt"

	"github.com/go-faster/jx"
)

// members describes the members of a request body that Core deserializes
// into a struct: serde's derived deserializer refuses a struct member that
// appears twice (reference §14 #6), while unknown members, and members
// inside free-form values (payload, metadata, state), may repeat. A member
// whose description is non-nil holds an array of such structs. A struct has
// at most 64 members.
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
	dup, _ := objectDuplicate(d, m)
	return dup
}

// objectDuplicate checks the object d is at. It allocates only to report a
// duplicate: members are told apart by their rank in sorted order.
func objectDuplicate(d *jx.Decoder, m members) (string, error) {
	var seen uint64
	var dup string
	err := d.ObjBytes(func(d *jx.Decoder, key []byte) error {
		sub, known := m[string(key)]
		if !known || dup != "" {
			return d.Skip()
		}
		r, name := rank(m, key)
		bit := uint64(1) << r
		if seen&bit != 0 {
			dup = fmt.Sprintf("duplicate field `%s`", key)
			return d.Skip()
		}
		seen |= bit
		if sub == nil || d.Next() != jx.Array {
			return d.Skip()
		}
		i := 0
		return d.Arr(func(d *jx.Decoder) error {
			defer func() { i++ }()
			if d.Next() != jx.Object || dup != "" {
				return d.Skip()
			}
			inner, err := objectDuplicate(d, sub)
			if dup == "" && inner != "" {
				dup = fmt.Sprintf("%s[%d]: %s", name, i, inner)
			}
			return err
		})
	})
	return dup, err
}

// rank returns how many members of m sort before key, and m's own copy of
// key (the decoder's may not outlive the callback).
func rank(m members, key []byte) (int, string) {
	n, name := 0, ""
	for k := range m {
		switch {
		case k < string(key):
			n++
		case k == string(key):
			name = k
		}
	}
	return n, name
}
