package roundtrip

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Known is a list of known round-trip failures: the (document, Go type,
// effect) triples that are allowed to fail, each with its reason. A type
// of "*" stands for every type of the document.
type Known map[KnownKey]string

// AnyType is the type of an entry that covers every type of a document.
const AnyType = "*"

// KnownKey names one kind of failure of one type.
type KnownKey struct {
	Doc, Type, Effect string
}

func (k KnownKey) String() string { return k.Doc + " " + k.Type + " " + k.Effect }

// Key returns the failure's key in a Known list.
func (f Failure) Key() KnownKey { return KnownKey{Doc: f.Doc, Type: f.Type, Effect: f.Effect} }

// ReadKnown reads a known-failures file: one "<doc> <type> <effect>" per
// line followed by a "# reason" comment; blank lines and lines starting
// with "#" are ignored.
func ReadKnown(file string) (Known, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("known failures: %w", err)
	}
	return ParseKnown(file, data)
}

// ParseKnown parses a known-failures list read from name; see ReadKnown.
func ParseKnown(name string, data []byte) (Known, error) {
	known := Known{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entry, reason, _ := strings.Cut(line, "#")
		fields := strings.Fields(entry)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"<doc> <type> <effect> # reason\", got %q", name, n, line)
		}
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: %q has no \"# reason\" comment", name, n, entry)
		}
		k := KnownKey{Doc: fields[0], Type: fields[1], Effect: fields[2]}
		if _, dup := known[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, k)
		}
		known[k] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return known, nil
}

// Audit compares failures with the list: it returns the failures whose key
// is not listed, and the listed keys that did not fail (fixed: they must
// leave the list), restricted to documents for which covered is true.
func (k Known) Audit(fs []Failure, covered func(doc string) bool) (unlisted []Failure, fixed []KnownKey) {
	failing := map[KnownKey]bool{}
	for _, f := range fs {
		key, wild := f.Key(), f.Key()
		wild.Type = AnyType
		failing[key], failing[wild] = true, true
		_, listed := k[key]
		_, listedWild := k[wild]
		if !listed && !listedWild {
			unlisted = append(unlisted, f)
		}
	}
	for key := range k {
		if covered(key.Doc) && !failing[key] {
			fixed = append(fixed, key)
		}
	}
	sort.Slice(fixed, func(i, j int) bool { return fixed[i].String() < fixed[j].String() })
	return unlisted, fixed
}

// KnownLines renders failures as lines of a known-failures file, one per
// key, with the class of the first failure as the reason. Effects for
// which perDoc is true get one line per document, with type "*".
func KnownLines(fs []Failure, perDoc func(effect string) bool) []string {
	seen := map[KnownKey]int{}
	var keys []KnownKey
	reasons := map[KnownKey]string{}
	for _, f := range fs {
		key := f.Key()
		if perDoc(f.Effect) {
			key.Type = AnyType
		}
		if _, ok := seen[key]; !ok {
			keys = append(keys, key)
			reasons[key] = f.Class()
		}
		if seen[key] == 0 || key.Type == AnyType {
			seen[key]++
		}
	}
	out := make([]string, 0, len(keys))
	for _, key := range keys {
		reason := reasons[key]
		if key.Type == AnyType {
			reason = fmt.Sprintf("%d failures, e.g. %s", seen[key], reason)
		}
		out = append(out, fmt.Sprintf("%s # %s", key, reason))
	}
	sort.Strings(out)
	return out
}
