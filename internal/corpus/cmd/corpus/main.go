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
	fmt.Fprintf(w, "corpus: %d root documents (%d under invalid/), %d fragments skipped\n",
		len(docs), len(invalid), len(fragments))

	sides := []side{
		{"oapi-codegen", "corpus (oapi-codegen v2)", corpus.OapiCodegen{}},
	}
	var reports []*corpus.Report
	var labels []string
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
			if err := printRefusals(ctx, w, s.gen, invalid, *dir); err != nil {
				return err
			}
		}
	}
	if len(reports) == 0 {
		return fmt.Errorf("unknown generator %q", *only)
	}

	for i, rep := range reports {
		fmt.Fprintln(w, rep.Line(labels[i]))
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
	}
	return nil
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

// printRefusals runs gen on the documents under invalid/ and prints how many
// it refused; accepting one, or panicking, is reported per document.
func printRefusals(ctx context.Context, w io.Writer, gen corpus.Generator, invalid []corpus.Document, dir string) error {
	refused, bad, err := corpus.CheckRefusals(ctx, gen, invalid, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "corpus: %d of %d invalid documents refused\n", refused, len(invalid))
	for _, b := range bad {
		fmt.Fprintf(w, "  %s\n", b)
	}
	return nil
}
