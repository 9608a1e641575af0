package roundtrip

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/allsource-go/allsource/internal/corpus"
)

// DefaultInstances is the number of valid instances synthesized per type
// when none is asked for: with the corpus, a few minutes on two cores.
const DefaultInstances = 12

// DefaultSeed is the seed of the synthesis when none is given.
const DefaultSeed = 20261201

// Run is one round-trip check over gen/, a package generated for every
// golden spec of the generator (GoldenDocs) and, when CorpusDir is set, one
// for every valid document of the corpus.
type Run struct {
	// RepoRoot is the repository root.
	RepoRoot string
	// CorpusDir is the corpus root, or "" to check gen/ only.
	CorpusDir string
	// WorkDir is an empty directory for the scratch module.
	WorkDir string
	// Config tunes the check.
	Config Config
	// Only, when set, keeps the documents (spec/ ones included) whose
	// path it accepts; the others are neither generated nor checked.
	Only func(doc string) bool
}

// Do generates the golden and corpus packages (documents under invalid/
// left out), builds the driver over them and gen/, and checks every type. It also
// returns the corpus report (nil without a corpus), whose failing documents
// are not checked.
func (r Run) Do(ctx context.Context) (*Report, *corpus.Report, error) {
	keep := r.Only
	if keep == nil {
		keep = func(string) bool { return true }
	}
	all, err := SpecTargets(ctx, r.RepoRoot)
	if err != nil {
		return nil, nil, err
	}
	var targets []Target
	for _, t := range all {
		if keep(t.Doc) {
			targets = append(targets, t)
		}
	}
	goldens, err := GoldenDocs(r.RepoRoot)
	if err != nil {
		return nil, nil, err
	}
	var generate []corpus.Document
	for _, d := range goldens {
		if keep(d.Path) {
			generate = append(generate, d)
		}
	}
	if r.CorpusDir != "" {
		docs, _, err := corpus.Discover(r.CorpusDir)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range docs {
			if !d.Invalid && keep(d.Path) {
				generate = append(generate, d)
			}
		}
	}
	var crep *corpus.Report
	if len(generate) > 0 {
		ct, rep, err := CorpusTargets(ctx, r.RepoRoot, r.CorpusDir, r.WorkDir, generate)
		if err != nil {
			return nil, nil, fmt.Errorf("corpus: %w", err)
		}
		targets = append(targets, ct...)
		// A golden spec that does not generate and build is a failure of
		// its own: TestGolden checks it, so it is reported here too.
		for _, o := range rep.Outcomes {
			if o.Doc.Root != "" && !o.OK() {
				return nil, nil, fmt.Errorf("%s: %s failed: %s", o.Doc.Path, o.Stage, o.Err)
			}
		}
		if r.CorpusDir != "" {
			crep = rep
		}
	} else if err := corpus.WriteScratchModule(r.RepoRoot, r.WorkDir); err != nil {
		return nil, nil, err
	}
	rep, err := Check(ctx, r.WorkDir, targets, r.Config)
	if err != nil {
		return nil, nil, err
	}
	return rep, crep, nil
}

// GoldenDirs is where the generator's golden specs are, relative to the
// repository root: one directory per feature, each with a spec.yaml.
const GoldenDirs = "generator/testdata/golden"

// GoldenDocs lists the generator's golden specs as documents rooted at
// generator/testdata, named "golden/NAME/spec.yaml": small documents, one
// per feature of the generator (unions, nullable members, streamed items
// with inline schemas, and so on), whose types the round trip checks
// beside gen/'s and the corpus's.
func GoldenDocs(repoRoot string) ([]corpus.Document, error) {
	files, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(GoldenDirs), "*", "spec.yaml"))
	if err != nil {
		return nil, fmt.Errorf("golden specs: %w", err)
	}
	root := filepath.Dir(filepath.Join(repoRoot, filepath.FromSlash(GoldenDirs)))
	var docs []corpus.Document
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			return nil, fmt.Errorf("golden specs: %w", err)
		}
		docs = append(docs, corpus.Document{Path: filepath.ToSlash(rel), Root: root})
	}
	return docs, nil
}
