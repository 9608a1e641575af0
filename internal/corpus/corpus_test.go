package corpus

import (
	"context"
	"sort"
	"testing"
)

// minRate is the floor, in percent, of the share of corpus documents whose
// generated package builds and vets cleanly.
const minRate = 97.0

// TestCorpus generates a package for every root document of ../shared/corpus,
// builds and vets them all, and checks the outcome against known_gaps.txt:
// a document not listed there must compile, a listed one must still fail
// (the list only shrinks), and documents under invalid/ must be refused with
// an error, never a panic. It also holds the compile rate to minRate.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus test generates and compiles every corpus document; run it without -short")
	}
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := Dir(root)
	if err != nil {
		t.Skipf("corpus not found at ../shared/corpus: %v", err)
	}
	docs, _, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	gaps, err := ReadKnownGaps("known_gaps.txt")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	var valid, invalid []Document
	for _, d := range docs {
		known[d.Path] = true
		if d.Invalid {
			invalid = append(invalid, d)
		} else {
			valid = append(valid, d)
		}
	}
	for _, p := range sortedGapPaths(gaps) {
		if !known[p] {
			t.Errorf("known_gaps.txt lists %s, which is not a corpus document: remove it from known_gaps.txt", p)
		}
	}
	ctx := context.Background()

	t.Run("invalid", func(t *testing.T) {
		refusals, err := CheckRefusals(ctx, Apigen{}, invalid, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refusals {
			reason, listed := gaps[r.Doc.Path]
			switch {
			case !r.Refused && !listed:
				t.Errorf("%s: %s", r.Doc.Path, r.Problem)
			case r.Refused && listed:
				t.Errorf("%s is refused now (listed as %q): remove it from known_gaps.txt", r.Doc.Path, reason)
			}
		}
	})

	rep, err := Run(ctx, Apigen{}, valid, Options{RepoRoot: root, CorpusDir: dir, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Line("corpus"))
	t.Logf("generate %.1fs, build %.1fs, vet %.1fs", rep.Generate.Seconds(), rep.Build.Seconds(), rep.Vet.Seconds())
	for _, o := range rep.Outcomes {
		reason, listed := gaps[o.Doc.Path]
		switch {
		case !o.OK() && !listed:
			t.Errorf("%s (package %s) fails at %s: %s", o.Doc.Path, o.Package, o.Stage, o.Err)
		case o.OK() && listed:
			t.Errorf("%s compiles now (listed as %q): remove it from known_gaps.txt", o.Doc.Path, reason)
		case !o.OK():
			t.Logf("known gap %s [%s]: %s", o.Doc.Path, o.Stage, o.Err)
		}
	}
	if rate := rep.Rate(); rate < minRate {
		t.Errorf("%s: below the %.0f%% floor", rep.Line("corpus"), minRate)
	}
}

func sortedGapPaths(gaps map[string]string) []string {
	paths := make([]string, 0, len(gaps))
	for p := range gaps {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}
