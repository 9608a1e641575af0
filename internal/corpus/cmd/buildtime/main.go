// Command buildtime measures how long the Go compiler takes over the client
// packages generated for the largest documents of the shared corpus, by this
// repository's generator (apigen) and by oapi-codegen v2, side by side in one
// run. Each package is generated into one scratch module, built once so that
// its dependencies are cached, then rebuilt alone: before every timed build a
// file with a fresh comment is rewritten in the package, so that the go
// command recompiles that package (and links nothing) while every dependency
// comes from the build cache. The figures are the median wall time of -runs
// builds and their median CPU time (user plus system, of the go command and
// the compiler), with the lines of Go each generator wrote.
//
// Usage:
//
//	go run ./internal/corpus/cmd/buildtime [-n 3] [-runs 3] [-doc text] [-keep]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/allsource-go/allsource/internal/corpus"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "buildtime:", err)
		os.Exit(1)
	}
}

// side is one generator's package for one document.
type side struct {
	name  string
	gen   corpus.Generator
	pkg   string
	lines int
	times []time.Duration
	cpu   []time.Duration // user plus system time of the go command and the compiler
}

func run(w io.Writer) error {
	n := flag.Int("n", 3, "how many of the largest documents to measure")
	runs := flag.Int("runs", 3, "timed builds per package (the median is printed)")
	only := flag.String("doc", "", "measure only the documents whose path contains this text")
	keep := flag.Bool("keep", false, "keep the scratch module and print where it is")
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
	dir, err := corpus.Dir(root)
	if err != nil {
		return fmt.Errorf("corpus not found at ../shared/corpus: %w", err)
	}
	docs, _, err := corpus.Discover(dir)
	if err != nil {
		return err
	}
	type sized struct {
		doc  corpus.Document
		size int64
	}
	var cands []sized
	for _, d := range docs {
		if d.Invalid || *only != "" && !strings.Contains(d.Path, *only) {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(d.Path)))
		if err != nil {
			return err
		}
		cands = append(cands, sized{d, fi.Size()})
	}
	slices.SortFunc(cands, func(a, b sized) int { return int(b.size - a.size) })

	work, err := os.MkdirTemp("", "buildtime-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(w, "scratch module:", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := corpus.WriteScratchModule(root, work); err != nil {
		return err
	}

	// The largest documents both generators take.
	var measured [][]*side
	var names []string
	for i := 0; i < len(cands) && len(measured) < *n; i++ {
		d := cands[i].doc
		pair := []*side{
			{name: "apigen", gen: corpus.Apigen{}, pkg: fmt.Sprintf("a%d", i)},
			{name: "oapi-codegen", gen: corpus.OapiCodegen{}, pkg: fmt.Sprintf("o%d", i)},
		}
		ok := true
		for _, s := range pair {
			pdir := filepath.Join(work, s.pkg)
			if err := os.MkdirAll(pdir, 0o755); err != nil {
				return err
			}
			job := corpus.Job{Doc: d, SpecPath: filepath.Join(dir, filepath.FromSlash(d.Path)), Package: s.pkg, Dir: pdir}
			if err := corpus.SafeGenerate(ctx, s.gen, job); err != nil {
				fmt.Fprintf(w, "skip %s: %s refuses it: %s\n", d.Path, s.name, firstLine(err.Error()))
				ok = false
				break
			}
			if out, _, err := goBuild(ctx, work, s.pkg); err != nil {
				fmt.Fprintf(w, "skip %s: %s's package does not build: %s\n", d.Path, s.name, firstLine(out))
				ok = false
				break
			}
			if s.lines, err = countLines(pdir); err != nil {
				return err
			}
		}
		if !ok {
			for _, s := range pair {
				_ = os.RemoveAll(filepath.Join(work, s.pkg))
			}
			continue
		}
		measured = append(measured, pair)
		names = append(names, fmt.Sprintf("%s (%d KiB)", d.Path, cands[i].size>>10))
	}
	if len(measured) == 0 {
		return fmt.Errorf("no document that both generators build")
	}
	// Timed rebuilds, the two sides of a document one after the other, so
	// that both see the same machine.
	for r := 0; r < *runs; r++ {
		for _, pair := range measured {
			for _, s := range pair {
				nonce := fmt.Sprintf("package %s\n\n// rebuild %d %d\n", s.pkg, r, time.Now().UnixNano())
				if err := os.WriteFile(filepath.Join(work, s.pkg, "zz_buildtime.go"), []byte(nonce), 0o644); err != nil {
					return err
				}
				start := time.Now()
				out, cpu, err := goBuild(ctx, work, s.pkg)
				if err != nil {
					return fmt.Errorf("%s: %v: %s", s.pkg, err, out)
				}
				s.times = append(s.times, time.Since(start))
				s.cpu = append(s.cpu, cpu)
			}
		}
	}
	for i, pair := range measured {
		a, o := pair[0], pair[1]
		am, om := median(a.times), median(o.times)
		fmt.Fprintf(w, "buildtime: %s: apigen %.2fs (%d lines), oapi-codegen %.2fs (%d lines), apigen/oapi-codegen %.2f",
			names[i], am.Seconds(), a.lines, om.Seconds(), o.lines, am.Seconds()/om.Seconds())
		if ac, oc := median(a.cpu), median(o.cpu); oc > 0 {
			// Zero where the platform reports no CPU time.
			fmt.Fprintf(w, "; cpu %.2fs vs %.2fs, %.2f", ac.Seconds(), oc.Seconds(), ac.Seconds()/oc.Seconds())
		}
		fmt.Fprintln(w)
	}
	return nil
}

// goBuild builds one package of the scratch module, output discarded, and
// returns the CPU time it took: user plus system time of the go command
// and of the compiler it ran, which a busy machine inflates less than the
// wall time.
func goBuild(ctx context.Context, work, pkg string) (string, time.Duration, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", os.DevNull, "./"+pkg)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	var cpu time.Duration
	if ps := cmd.ProcessState; ps != nil {
		cpu = ps.UserTime() + ps.SystemTime()
	}
	return string(out), cpu, err
}

// countLines counts the lines of the .go files in dir.
func countLines(dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		n += bytes.Count(b, []byte("\n"))
	}
	return n, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
