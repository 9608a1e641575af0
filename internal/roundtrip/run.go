package roundtrip

import (
	"context"
	"fmt"

	"github.com/allsource-go/allsource/internal/corpus"
)

// DefaultInstances is the number of valid instances synthesized per type
// when none is asked for: with the corpus, a few minutes on two cores.
const DefaultInstances = 12

// DefaultSeed is the seed of the synthesis when none is given.
const DefaultSeed = 20261201

// Run is one round-trip check over gen/ and, when CorpusDir is set, over a
// package generated for every valid document of the corpus.
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

// Do generates the corpus packages (documents under invalid/ left out),
// builds the driver over them and gen/, and checks every type. It also
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
	var crep *corpus.Report
	if r.CorpusDir != "" {
		docs, _, err := corpus.Discover(r.CorpusDir)
		if err != nil {
			return nil, nil, err
		}
		var valid []corpus.Document
		for _, d := range docs {
			if !d.Invalid && keep(d.Path) {
				valid = append(valid, d)
			}
		}
		ct, rep, err := CorpusTargets(ctx, r.RepoRoot, r.CorpusDir, r.WorkDir, valid)
		if err != nil {
			return nil, nil, fmt.Errorf("corpus: %w", err)
		}
		targets, crep = append(targets, ct...), rep
	} else if err := corpus.WriteScratchModule(r.RepoRoot, r.WorkDir); err != nil {
		return nil, nil, err
	}
	rep, err := Check(ctx, r.WorkDir, targets, r.Config)
	if err != nil {
		return nil, nil, err
	}
	return rep, crep, nil
}
