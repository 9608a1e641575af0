package corpus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
)

// Job is one document to generate a package for.
type Job struct {
	// Doc is the document.
	Doc Document
	// SpecPath is the document's absolute file path.
	SpecPath string
	// Package is the Go package name to generate.
	Package string
	// Dir is the directory to write the package's files into; it exists.
	Dir string
}

// Generator generates a Go package for one document.
type Generator interface {
	// Name names the generator in reports.
	Name() string
	// Generate writes the package for job.Doc into job.Dir, or returns an
	// error when it refuses the document.
	Generate(ctx context.Context, job Job) error
}

// Stage names the step at which a document failed.
type Stage string

// The stages a document passes through.
const (
	StageOK       Stage = ""
	StageGenerate Stage = "generate"
	StageBuild    Stage = "build"
	StageVet      Stage = "vet"
)

// Outcome is what happened to one document.
type Outcome struct {
	// Doc is the document.
	Doc Document
	// Package is the name of the package generated for it.
	Package string
	// Stage is where it failed, or StageOK when it generated, built and
	// vetted cleanly.
	Stage Stage
	// Err is the first error line of the failing stage.
	Err string
	// Output is the whole output of the failing stage for this document.
	Output string
}

// OK reports whether the document compiled and vetted cleanly.
func (o Outcome) OK() bool { return o.Stage == StageOK }

// Report is the result of one generator over the corpus.
type Report struct {
	// Generator is the generator's name.
	Generator string
	// Outcomes holds one entry per document, in document order.
	Outcomes []Outcome
	// Generate, Build and Vet are the wall times of the three steps.
	Generate, Build, Vet time.Duration
}

// Passed returns how many documents compiled and vetted cleanly.
func (r *Report) Passed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.OK() {
			n++
		}
	}
	return n
}

// Rate returns the share of documents that compiled, in percent.
func (r *Report) Rate() float64 {
	if len(r.Outcomes) == 0 {
		return 0
	}
	return 100 * float64(r.Passed()) / float64(len(r.Outcomes))
}

// Line returns the summary line "<label>: N of M specs compile (P%)".
func (r *Report) Line(label string) string {
	return fmt.Sprintf("%s: %d of %d specs compile (%.1f%%)", label, r.Passed(), len(r.Outcomes), r.Rate())
}

// Subset returns a report restricted to the documents keep accepts.
func (r *Report) Subset(keep func(Document) bool) *Report {
	sub := &Report{Generator: r.Generator}
	for _, o := range r.Outcomes {
		if keep(o.Doc) {
			sub.Outcomes = append(sub.Outcomes, o)
		}
	}
	return sub
}

// Failures returns the outcomes that did not pass.
func (r *Report) Failures() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if !o.OK() {
			out = append(out, o)
		}
	}
	return out
}

// Options configures Run.
type Options struct {
	// RepoRoot is the repository root; the scratch module replaces this
	// module with it so that generated code can import the runtime.
	RepoRoot string
	// CorpusDir is the corpus root.
	CorpusDir string
	// WorkDir is an empty directory for the scratch module.
	WorkDir string
	// Parallel is the go command's -p; 2 when zero.
	Parallel int
	// SkipVet leaves out go vet: a document passes when its package builds.
	SkipVet bool
}

// scratchModule is the module path of the scratch module.
const scratchModule = "corpusbuild"

// ScratchModule is the module path of the scratch module Run builds in: the
// package generated into WorkDir/<pkg> has the import path
// ScratchModule/<pkg>.
const ScratchModule = scratchModule

// WriteScratchModule writes the go.mod and go.sum of a scratch module into
// dir, as Run does: a module that requires this one, replaced by repoRoot,
// and everything this one requires, so that code in it builds offline.
func WriteScratchModule(repoRoot, dir string) error {
	return writeScratchModule(repoRoot, dir)
}

// Run generates a package for every document in docs with gen, then builds
// and vets all of them in one scratch module, and reports the outcome of each
// document. A generator panic is recovered and recorded as a generate failure.
func Run(ctx context.Context, gen Generator, docs []Document, opts Options) (*Report, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	if err := writeScratchModule(opts.RepoRoot, opts.WorkDir); err != nil {
		return nil, err
	}
	rep := &Report{Generator: gen.Name()}
	width := len(fmt.Sprint(len(docs)))
	if width < 3 {
		width = 3
	}
	start := time.Now()
	var built []int
	for i, d := range docs {
		pkg := fmt.Sprintf("p%0*d", width, i+1)
		out := Outcome{Doc: d, Package: pkg}
		dir := filepath.Join(opts.WorkDir, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create package dir: %w", err)
		}
		job := Job{Doc: d, SpecPath: d.SpecPath(opts.CorpusDir), Package: pkg, Dir: dir}
		if err := SafeGenerate(ctx, gen, job); err != nil {
			out.Stage, out.Err, out.Output = StageGenerate, firstLine(err.Error()), err.Error()
			// Leave nothing behind for the build to trip over.
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("remove package dir: %w", err)
			}
		} else {
			built = append(built, i)
		}
		rep.Outcomes = append(rep.Outcomes, out)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	rep.Generate = time.Since(start)

	for _, step := range []struct {
		stage Stage
		took  *time.Duration
	}{{StageBuild, &rep.Build}, {StageVet, &rep.Vet}} {
		if step.stage == StageVet && opts.SkipVet {
			break
		}
		start := time.Now()
		var pkgs []string
		for _, i := range built {
			pkgs = append(pkgs, rep.Outcomes[i].Package)
		}
		failed, err := goCheck(ctx, opts, step.stage, pkgs)
		if err != nil {
			return nil, err
		}
		var still []int
		for _, i := range built {
			o := &rep.Outcomes[i]
			if lines, bad := failed[o.Package]; bad {
				o.Stage, o.Output = step.stage, strings.Join(lines, "\n")
				o.Err = firstErrorLine(lines)
				continue
			}
			still = append(still, i)
		}
		built = still
		*step.took = time.Since(start)
	}
	return rep, nil
}

// SafeGenerate runs gen on job and turns a panic into an error carrying the
// panic value and its stack.
func SafeGenerate(ctx context.Context, gen Generator, job Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: string(debug.Stack())}
		}
	}()
	return gen.Generate(ctx, job)
}

// PanicError is a generator panic recovered by SafeGenerate.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack string
}

// Error implements error.
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack)
}

// writeScratchModule writes go.mod and go.sum of the scratch module into dir:
// it requires this module, replaced by repoRoot, and every module this module
// requires, so that the generated packages resolve their imports offline.
func writeScratchModule(repoRoot, dir string) error {
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		return fmt.Errorf("scratch module: %w", err)
	}
	main, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		return fmt.Errorf("scratch module: parse go.mod: %w", err)
	}
	f := &modfile.File{}
	if err := f.AddModuleStmt(scratchModule); err != nil {
		return fmt.Errorf("scratch module: %w", err)
	}
	if main.Go != nil {
		if err := f.AddGoStmt(main.Go.Version); err != nil {
			return fmt.Errorf("scratch module: %w", err)
		}
	}
	self := main.Module.Mod.Path
	if err := f.AddRequire(self, "v0.0.0-00010101000000-000000000000"); err != nil {
		return fmt.Errorf("scratch module: %w", err)
	}
	for _, r := range main.Require {
		if err := f.AddRequire(r.Mod.Path, r.Mod.Version); err != nil {
			return fmt.Errorf("scratch module: %w", err)
		}
	}
	for _, r := range main.Replace {
		newPath := r.New.Path
		if r.New.Version == "" && !filepath.IsAbs(newPath) {
			newPath = filepath.Join(repoRoot, newPath)
		}
		if err := f.AddReplace(r.Old.Path, r.Old.Version, newPath, r.New.Version); err != nil {
			return fmt.Errorf("scratch module: %w", err)
		}
	}
	if err := f.AddReplace(self, "", repoRoot, ""); err != nil {
		return fmt.Errorf("scratch module: %w", err)
	}
	out, err := f.Format()
	if err != nil {
		return fmt.Errorf("scratch module: format go.mod: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), out, 0o644); err != nil {
		return fmt.Errorf("scratch module: %w", err)
	}
	sum, err := os.ReadFile(filepath.Join(repoRoot, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("scratch module: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return fmt.Errorf("scratch module: %w", err)
	}
	return nil
}

// goCheck runs "go build" or "go vet" over pkgs in one invocation and returns
// the output lines of every package that failed. When the output cannot be
// attributed to packages with certainty, the packages not yet known to fail
// are checked again one by one.
func goCheck(ctx context.Context, opts Options, stage Stage, pkgs []string) (map[string][]string, error) {
	failed := map[string][]string{}
	if len(pkgs) == 0 {
		return failed, nil
	}
	known := map[string]bool{}
	for _, p := range pkgs {
		known[p] = true
	}
	out, ok, err := goCmd(ctx, opts, stage, pkgs)
	if err != nil {
		return nil, err
	}
	if ok {
		return failed, nil
	}
	perPkg, unattributed := Attribute(out, scratchModule, known)
	for p, lines := range perPkg {
		failed[p] = lines
	}
	if len(unattributed) == 0 && len(perPkg) > 0 {
		return failed, nil
	}
	for _, p := range pkgs {
		if _, bad := failed[p]; bad {
			continue
		}
		out, ok, err := goCmd(ctx, opts, stage, []string{p})
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		perPkg, unattributed := Attribute(out, scratchModule, map[string]bool{p: true})
		lines := append(perPkg[p], unattributed...)
		failed[p] = lines
	}
	return failed, nil
}

// goCmd runs the go command for stage over pkgs in the scratch module. It
// reports whether the command succeeded; err is set only when the command
// could not be run at all.
func goCmd(ctx context.Context, opts Options, stage Stage, pkgs []string) (output string, ok bool, err error) {
	args := []string{string(stage), "-p", fmt.Sprint(opts.Parallel)}
	for _, p := range pkgs {
		args = append(args, "./"+p)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = opts.WorkDir
	// -trimpath keeps the scratch directory out of the build cache's keys,
	// so that another run (the round-trip test's, say) reuses the compiled
	// packages.
	cmd.Env = append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod -trimpath"),
	)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return string(out), true, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		return string(out), false, nil
	}
	return "", false, fmt.Errorf("go %s: %w", stage, err)
}

var (
	headerRE = regexp.MustCompile(`^# (\S+)`)
	pkgRE    = regexp.MustCompile(`(?:^|[\s/:'"(])(p\d{3,})/`)
)

// Attribute splits output of "go build" or "go vet" run in module modPath
// over the packages in known into lines per package. A line belongs to the
// package named by the nearest "# modPath/pkg" header above it, or to the
// package whose directory or import path it mentions. Lines that belong to no
// known package are returned as unattributed.
func Attribute(output, modPath string, known map[string]bool) (perPkg map[string][]string, unattributed []string) {
	perPkg = map[string][]string{}
	cur := ""
	pkgOf := func(s string) string {
		if strings.HasPrefix(s, modPath+"/") {
			s = strings.TrimPrefix(s, modPath+"/")
			if i := strings.IndexAny(s, "/ "); i >= 0 {
				s = s[:i]
			}
			if known[s] {
				return s
			}
		}
		return ""
	}
	for _, line := range strings.Split(output, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if m := headerRE.FindStringSubmatch(line); m != nil {
			cur = pkgOf(m[1])
			if cur == "" {
				unattributed = append(unattributed, line)
			}
			continue
		}
		owner := ""
		if i := strings.Index(line, modPath+"/"); i >= 0 {
			owner = pkgOf(line[i:])
		}
		if owner == "" {
			if m := pkgRE.FindStringSubmatch(line); m != nil && known[m[1]] {
				owner = m[1]
			}
		}
		if owner == "" {
			owner = cur
		}
		if owner == "" {
			unattributed = append(unattributed, line)
			continue
		}
		perPkg[owner] = append(perPkg[owner], line)
	}
	return perPkg, unattributed
}

// firstErrorLine returns the first line worth showing from a package's
// output: the first that is not a go command banner.
func firstErrorLine(lines []string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		return strings.TrimSpace(l)
	}
	if len(lines) > 0 {
		return strings.TrimSpace(lines[0])
	}
	return "(no output)"
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Refusal is what a generator did with a document it must refuse.
type Refusal struct {
	// Doc is the document.
	Doc Document
	// Refused reports that the generator returned an error, as it must.
	Refused bool
	// Problem says what went wrong when Refused is false: the document was
	// accepted, or the generator panicked.
	Problem string
}

// CheckRefusals runs gen on each of docs, which must all be refused, into a
// scratch directory, and reports what it did with each.
func CheckRefusals(ctx context.Context, gen Generator, docs []Document, corpusDir string) ([]Refusal, error) {
	work, err := os.MkdirTemp("", "corpus-invalid-")
	if err != nil {
		return nil, fmt.Errorf("check refusals: %w", err)
	}
	defer os.RemoveAll(work)
	var out []Refusal
	for i, d := range docs {
		dir := filepath.Join(work, fmt.Sprintf("p%03d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("check refusals: %w", err)
		}
		job := Job{Doc: d, SpecPath: d.SpecPath(corpusDir), Package: filepath.Base(dir), Dir: dir}
		genErr := SafeGenerate(ctx, gen, job)
		r := Refusal{Doc: d}
		var p *PanicError
		switch {
		case errors.As(genErr, &p):
			r.Problem = fmt.Sprintf("panicked: %v", firstLine(fmt.Sprint(p.Value)))
		case genErr == nil:
			r.Problem = "accepted, must be refused"
		default:
			r.Refused = true
		}
		out = append(out, r)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
