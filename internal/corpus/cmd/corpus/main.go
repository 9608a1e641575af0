// Command corpus reports how many documents of the shared OpenAPI corpus
// (../shared/corpus beside the repository) generate Go packages that pass
// go build and go vet, for this repository's generator and, on the same
// documents in the same run, for oapi-codegen v2 (models + client,
// resolve-type-name-collisions on). It prints one summary line per generator,
// a breakdown by corpus part, and every failing document with its first error.
//
// Usage:
//
//	go run ./internal/corpus/cmd/corpus [-only apigen|oapi-codegen] [-keep]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/allsource-go/allsource/internal/corpus"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

// side is one generator in the comparison with the label of its summary line.
type side struct {
	key   string
	label string
	gen   corpus.Generator
}

func run(w io.Writer) error {
	only := flag.String("only", "", "run one generator only: apigen or oapi-codegen")
	keep := flag.Bool("keep", false, "keep the scratch modules and print where they are")
	dir := flag.String("corpus", "", "corpus directory (default ../shared/corpus beside the repository)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := corpus.FindRepoRoot(wd)
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = corpus.Dir(root); err != nil {
			return fmt.Errorf("corpus not found at ../shared/corpus: %w", err)
		}
	}
	docs, fragments, err := corpus.Discover(*dir)
	if err != nil {
		return err
	}
	var valid, invalid []corpus.Document
	for _, d := range docs {
		if d.Invalid {
			invalid = append(invalid, d)
		} else {
			valid = append(valid, d)
		}
	}
	fmt.Fprintf(w, "documents: %d root documents (%d under invalid/), %d fragments skipped\n",
		len(docs), len(invalid), len(fragments))

	sides := []side{
		{"apigen", "corpus", corpus.Apigen{}},
		{"oapi-codegen", "corpus (oapi-codegen v2)", corpus.OapiCodegen{}},
	}
	var reports []*corpus.Report
	var labels []string
	var refusals []corpus.Refusal
	var apigen *corpus.Report
	for _, s := range sides {
		if *only != "" && *only != s.key {
			continue
		}
		work, err := os.MkdirTemp("", "corpus-"+s.key+"-")
		if err != nil {
			return err
		}
		if *keep {
			fmt.Fprintf(w, "%s: scratch module in %s\n", s.key, work)
		} else {
			defer os.RemoveAll(work)
		}
		rep, err := corpus.Run(ctx, s.gen, valid, corpus.Options{RepoRoot: root, CorpusDir: *dir, WorkDir: work})
		if err != nil {
			return fmt.Errorf("%s: %w", s.key, err)
		}
		reports = append(reports, rep)
		labels = append(labels, s.label)
		if s.key == "apigen" {
			if refusals, err = corpus.CheckRefusals(ctx, s.gen, invalid, *dir); err != nil {
				return err
			}
			apigen = rep
		}
	}
	if len(reports) == 0 {
		return fmt.Errorf("unknown generator %q", *only)
	}

	for i, rep := range reports {
		fmt.Fprintln(w, rep.Line(labels[i]))
	}
	if apigen != nil {
		refused := 0
		for _, r := range refusals {
			if r.Refused {
				refused++
			}
		}
		fmt.Fprintf(w, "invalid: %d of %d documents refused\n", refused, len(refusals))
	}
	for i, rep := range reports {
		fmt.Fprintf(w, "\n%s (generate %.1fs, build %.1fs, vet %.1fs)\n", labels[i],
			rep.Generate.Seconds(), rep.Build.Seconds(), rep.Vet.Seconds())
		for _, part := range parts(valid) {
			sub := rep.Subset(part.keep)
			fmt.Fprintf(w, "  %-28s %d of %d (%.1f%%)\n", part.name+":", sub.Passed(), len(sub.Outcomes), sub.Rate())
		}
		fails := rep.Failures()
		fmt.Fprintf(w, "  failures (%d):\n", len(fails))
		for _, o := range fails {
			fmt.Fprintf(w, "    %s [%s] %s\n", o.Doc.Path, o.Stage, o.Err)
		}
		if rep == apigen {
			fmt.Fprintln(w, "  invalid documents not refused:")
			for _, r := range refusals {
				if !r.Refused {
					fmt.Fprintf(w, "    %s: %s\n", r.Doc.Path, r.Problem)
				}
			}
		}
	}
	if apigen != nil {
		gaps, err := corpus.ReadKnownGaps(filepath.Join(root, "internal", "corpus", "known_gaps.txt"))
		if err != nil {
			return err
		}
		printGapChanges(w, gaps, apigen, refusals)
	}
	return nil
}

// printGapChanges compares this run of apigen with known_gaps.txt: documents
// that fail but are not listed, and listed documents that pass now.
func printGapChanges(w io.Writer, gaps map[string]string, rep *corpus.Report, refusals []corpus.Refusal) {
	var added, fixed []string
	for _, o := range rep.Outcomes {
		_, listed := gaps[o.Doc.Path]
		switch {
		case !o.OK() && !listed:
			added = append(added, fmt.Sprintf("%s # %s: %s", o.Doc.Path, o.Stage, o.Err))
		case o.OK() && listed:
			fixed = append(fixed, o.Doc.Path)
		}
	}
	for _, r := range refusals {
		_, listed := gaps[r.Doc.Path]
		switch {
		case !r.Refused && !listed:
			added = append(added, fmt.Sprintf("%s # %s", r.Doc.Path, r.Problem))
		case r.Refused && listed:
			fixed = append(fixed, r.Doc.Path)
		}
	}
	fmt.Fprintf(w, "\nknown_gaps.txt: %d new failures, %d listed documents pass now\n", len(added), len(fixed))
	for _, a := range added {
		fmt.Fprintf(w, "  new:   %s\n", a)
	}
	for _, f := range fixed {
		fmt.Fprintf(w, "  fixed: %s\n", f)
	}
}

// part is a named subset of the corpus.
type part struct {
	name string
	keep func(corpus.Document) bool
}

// parts returns the top-level directories of the corpus and the subsets by
// origin that MANIFEST.txt names.
func parts(docs []corpus.Document) []part {
	dirs := map[string]bool{}
	origins := map[string]bool{}
	for _, d := range docs {
		dirs[strings.SplitN(d.Path, "/", 2)[0]] = true
		if d.Origin != "" {
			origins[d.Origin] = true
		}
	}
	var out []part
	for _, d := range sortedKeys(dirs) {
		out = append(out, part{d + "/", func(doc corpus.Document) bool { return strings.HasPrefix(doc.Path, d+"/") }})
	}
	for _, o := range sortedKeys(origins) {
		out = append(out, part{"from " + o, func(doc corpus.Document) bool { return doc.Origin == o }})
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
