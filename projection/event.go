package projection

import (
	"strings"

	"github.com/allsource-go/allsource/allsource"
)

// Event is one event as the reducer sees it: the stored event, of the same
// type queries and the stream return (so one fold function can serve
// allsource.FoldEvents and a worker's reducer: pass it &ev.Event), and its
// position.
type Event struct {
	allsource.Event
	// Position is the event's global position in Core, or 0 when it is not
	// known: Core sends positions with replayed events only, never with
	// live ones.
	Position int64
}

// Decode decodes the payload of ev into a value of type T: it is
// allsource.DecodePayload, the SDK's one payload decoder, for a reducer's
// event.
func Decode[T any](ev Event) (T, error) {
	return allsource.DecodePayload[T](&ev.Event)
}

// appendEntityKey appends the key of an entity in the version map:
// versions are per entity within a tenant, and a tenant id never contains
// '/', so "tenant/entity" is unambiguous.
func appendEntityKey(b []byte, tenant, entity string) []byte {
	return append(append(append(b, tenant...), '/'), entity...)
}

// typeFilter matches event types the way Core's consumer registry does
// (reference §5.6): an entry "x.*" matches "x" and every type starting with
// "x."; any other entry is an exact match; no entries match every type.
type typeFilter struct {
	exact    map[string]bool
	prefixes []string // "x." for each "x.*"
}

func newTypeFilter(filters []string) typeFilter {
	f := typeFilter{exact: make(map[string]bool)}
	for _, e := range filters {
		if p, ok := strings.CutSuffix(e, ".*"); ok {
			f.exact[p] = true
			f.prefixes = append(f.prefixes, p+".")
			continue
		}
		f.exact[e] = true
	}
	return f
}

func (f typeFilter) all() bool { return len(f.exact) == 0 }

func (f typeFilter) match(t string) bool {
	if f.all() || f.exact[t] {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// streamFilters returns the filters to subscribe the WebSocket with so that
// live delivery matches the consumer registry: the live stream's "x.*" does
// not match "x" itself, so "x" is added as an exact entry.
func streamFilters(filters []string) []string {
	out := make([]string, 0, len(filters))
	seen := make(map[string]bool)
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range filters {
		add(e)
		if p, ok := strings.CutSuffix(e, ".*"); ok {
			add(p)
		}
	}
	return out
}
