// Package corpus checks generators against a corpus of real-world OpenAPI
// documents: it generates one Go package per document into a scratch module,
// builds and vets them all, and attributes every failure to its document.
//
// The corpus lives outside the repository, at ../shared/corpus relative to the
// repository root. Its MANIFEST.txt names where each document came from.
//
// A file of the corpus is a root document when its top level is a mapping
// with an "openapi" or "swagger" key; every other file is a fragment that root
// documents reference, and is not counted. Documents under invalid/ are
// broken on purpose: a generator must refuse them with an error.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// InvalidDir is the corpus directory whose documents must be refused.
const InvalidDir = "invalid"

// Document is one root document of the corpus.
type Document struct {
	// Path is the document's path relative to the corpus root, with forward
	// slashes, for example "real-world/api.github.com.json".
	Path string
	// Invalid reports that the document lies under invalid/ and must be
	// refused by a generator.
	Invalid bool
	// Swagger2 reports a Swagger 2.0 document (top-level "swagger" key).
	Swagger2 bool
	// Origin is the upstream repository the document came from, as named by
	// MANIFEST.txt, or "" when the manifest does not list it.
	Origin string
	// Root, when set, is the directory Path is relative to, in place of
	// the corpus root: for documents kept elsewhere (the generator's golden
	// specs, say) run beside the corpus.
	Root string
}

// SpecPath returns the document's file name, joined to corpusDir unless
// the document names its own Root.
func (d Document) SpecPath(corpusDir string) string {
	root := corpusDir
	if d.Root != "" {
		root = d.Root
	}
	return filepath.Join(root, filepath.FromSlash(d.Path))
}

// FindRepoRoot walks up from dir to the directory that holds go.mod.
func FindRepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find repository root: no go.mod above %s", abs)
		}
		d = parent
	}
}

// Dir returns the corpus directory for the repository rooted at repoRoot:
// ../shared/corpus beside it. It reports an error when the directory is absent.
func Dir(repoRoot string) (string, error) {
	dir := filepath.Join(repoRoot, "..", "shared", "corpus")
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("corpus directory: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("corpus directory: %s is not a directory", dir)
	}
	return dir, nil
}

// Discover lists the root documents of the corpus at dir, sorted by path. It
// also returns the paths of the fragments it skipped.
func Discover(dir string) (docs []Document, fragments []string, err error) {
	origins, err := readManifest(filepath.Join(dir, "MANIFEST.txt"))
	if err != nil {
		return nil, nil, err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		invalid := strings.HasPrefix(rel, InvalidDir+"/")
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		kind, err := Sniff(rel, data)
		switch {
		case err != nil && invalid:
			// An unreadable file under invalid/ is still a document a
			// generator must refuse.
			kind = KindOpenAPI
		case err != nil || kind == KindFragment:
			fragments = append(fragments, rel)
			return nil
		}
		docs = append(docs, Document{
			Path:     rel,
			Invalid:  invalid,
			Swagger2: kind == KindSwagger,
			Origin:   origins[rel],
		})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("discover corpus %s: %w", dir, err)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Path < docs[j].Path })
	sort.Strings(fragments)
	return docs, fragments, nil
}

// Kind classifies a corpus file.
type Kind int

// The kinds of corpus file.
const (
	// KindFragment is a file referenced by documents, not a document.
	KindFragment Kind = iota
	// KindOpenAPI is an OpenAPI 3.x root document.
	KindOpenAPI
	// KindSwagger is a Swagger 2.0 root document.
	KindSwagger
)

// Sniff classifies the file name holding data by its top-level keys: a
// mapping with an "openapi" key is an OpenAPI document, one with a "swagger"
// key a Swagger 2.0 document, anything else a fragment. JSON files are read
// with a streaming decoder so that large documents are not decoded whole.
func Sniff(name string, data []byte) (Kind, error) {
	var keys []string
	var err error
	if strings.EqualFold(path.Ext(name), ".json") {
		keys, err = jsonTopKeys(data)
	} else {
		keys, err = yamlTopKeys(data)
	}
	if err != nil {
		return KindFragment, fmt.Errorf("sniff %s: %w", name, err)
	}
	kind := KindFragment
	for _, k := range keys {
		switch k {
		case "openapi":
			return KindOpenAPI, nil
		case "swagger":
			kind = KindSwagger
		}
	}
	return kind, nil
}

// jsonTopKeys returns the keys of the top-level JSON object in data, or none
// when the top level is not an object.
func jsonTopKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %T, not a string", tok)
		}
		keys = append(keys, key)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
	}
	return keys, nil
}

// yamlTopKeys returns the keys of the top-level YAML mapping in data, or none
// when the top level is not a mapping.
func yamlTopKeys(data []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, nil
	}
	var keys []string
	for i := 0; i+1 < len(top.Content); i += 2 {
		keys = append(keys, top.Content[i].Value)
	}
	return keys, nil
}

// readManifest maps corpus-relative paths to the repository MANIFEST.txt
// names as their origin. Lines read "owner/repo commit path sha256 -> dest".
// A missing manifest yields an empty map.
func readManifest(file string) (map[string]string, error) {
	origins := map[string]string{}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return origins, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[len(fields)-2] != "->" {
			continue
		}
		origins[fields[len(fields)-1]] = fields[0]
	}
	return origins, sc.Err()
}

// ReadKnownGaps reads a known-gaps list: one corpus-relative document path per
// line followed by a "# reason" comment. Blank lines and lines that start with
// "#" are ignored. It maps each path to its reason.
func ReadKnownGaps(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("known gaps: %w", err)
	}
	return ParseKnownGaps(file, data)
}

// ParseKnownGaps parses the known-gaps list data read from name; see
// ReadKnownGaps. Every entry must carry a reason and appear once.
func ParseKnownGaps(name string, data []byte) (map[string]string, error) {
	gaps := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, reason, _ := strings.Cut(line, "#")
		p, reason = strings.TrimSpace(p), strings.TrimSpace(reason)
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: %q has no \"# reason\" comment", name, n, p)
		}
		if strings.ContainsAny(p, " \t") {
			return nil, fmt.Errorf("%s:%d: %q is not one path", name, n, p)
		}
		if _, dup := gaps[p]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, p)
		}
		gaps[p] = reason
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return gaps, nil
}
