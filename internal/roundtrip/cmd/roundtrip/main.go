// Command roundtrip runs the round-trip check over the packages in gen/ and
// over a package generated for every document of the shared corpus
// (../shared/corpus beside the repository, when present), and prints the
// full report: a line per document, the failures grouped by class with
// examples, and the summary line.
//
// Usage:
//
//	go run ./internal/roundtrip/cmd/roundtrip [-instances N] [-seed S] [-numbers exact|value] [-examples K] [-spec-only] [-doc TEXT] [-keep] [-list]
//
// It exits with status 1 when an instance fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/allsource-go/allsource/internal/corpus"
	"github.com/allsource-go/allsource/internal/roundtrip"
)

func main() {
	failed, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "roundtrip:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

func run() (failed bool, err error) {
	instances := flag.Int("instances", roundtrip.DefaultInstances, "valid instances to synthesize per type")
	seed := flag.Uint64("seed", roundtrip.DefaultSeed, "seed of the synthesis")
	numbers := flag.String("numbers", "value", "number comparison: value (same decimal value) or exact (same text)")
	examples := flag.Int("examples", 5, "examples to print per failure class")
	specOnly := flag.Bool("spec-only", false, "check gen/ only, not the corpus")
	only := flag.String("doc", "", "check only the documents whose path contains this text (spec/core.yaml, real-world/, ...)")
	keep := flag.Bool("keep", false, "keep the scratch module and print where it is")
	list := flag.Bool("list", false, "print the failures as lines of known_failures.txt instead of the report")
	flag.Parse()
	mode, err := roundtrip.ParseNumberMode(*numbers)
	if err != nil {
		return false, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	wd, err := os.Getwd()
	if err != nil {
		return false, err
	}
	root, err := corpus.FindRepoRoot(wd)
	if err != nil {
		return false, err
	}
	work, err := os.MkdirTemp("", "roundtrip-")
	if err != nil {
		return false, err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "scratch module:", work)
	} else {
		defer os.RemoveAll(work)
	}
	run := roundtrip.Run{RepoRoot: root, WorkDir: work, Config: roundtrip.Config{Instances: *instances, Seed: *seed, Numbers: mode}}
	if *only != "" {
		run.Only = func(doc string) bool { return strings.Contains(doc, *only) }
	}
	if !*specOnly {
		if dir, err := corpus.Dir(root); err == nil {
			run.CorpusDir = dir
		} else {
			fmt.Fprintf(os.Stderr, "roundtrip: corpus not found at ../shared/corpus (%v); checking gen/ only\n", err)
		}
	}
	rep, crep, err := run.Do(ctx)
	if err != nil {
		return false, err
	}
	if *list {
		writeKnown(os.Stdout, rep.Failures())
		return len(rep.Failures()) > 0, nil
	}
	if crep != nil {
		fmt.Printf("corpus packages: %s (generate %.1fs, build %.1fs)\n", crep.Line("built"), crep.Generate.Seconds(), crep.Build.Seconds())
	}
	roundtrip.WriteReport(os.Stdout, rep, *examples)
	return len(rep.Failures()) > 0, nil
}

// knownHeader starts the known-failures file -list writes.
const knownHeader = `# Round-trip failures the generator does not fix yet, one per line:
# "<document> <Go type> <effect> # reason", where the reason is the class of
# the first failure seen (effect at the schema construct: error shape).
# A type of "*" covers every type of the document; it is used for the
# variants that come from one cause each (escaped strings, respelled
# numbers, duplicated members). After a generator fix, regenerate it with
#	go run ./internal/roundtrip/cmd/roundtrip -list > internal/roundtrip/known_failures.txt
# and check that the change only removes lines.
#
# The list only shrinks: TestRoundTrip fails on a failure not listed here,
# and on a listed entry that no longer fails (remove it then).
`

// writeKnown writes failures as a known-failures file, one section per
// effect.
func writeKnown(w io.Writer, fs []roundtrip.Failure) {
	fmt.Fprint(w, knownHeader)
	perDoc := func(effect string) bool {
		return strings.HasSuffix(effect, "(escaped)") || strings.HasSuffix(effect, "(respelled)") || strings.HasSuffix(effect, "(duplicate)")
	}
	byEffect := map[string][]roundtrip.Failure{}
	for _, f := range fs {
		byEffect[f.Effect] = append(byEffect[f.Effect], f)
	}
	effects := make([]string, 0, len(byEffect))
	for e := range byEffect {
		effects = append(effects, e)
	}
	sort.Strings(effects)
	for _, e := range effects {
		fmt.Fprintf(w, "\n# %s\n", e)
		for _, l := range roundtrip.KnownLines(byEffect[e], perDoc) {
			fmt.Fprintln(w, l)
		}
	}
}
