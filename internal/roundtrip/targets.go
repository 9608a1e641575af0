package roundtrip

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/allsource-go/allsource/generator"
	"github.com/allsource-go/allsource/internal/corpus"
	"golang.org/x/mod/modfile"
)

// SpecConfigs returns the generator configurations of the packages in gen/
// (every gen/*/gen.yaml), relative to the repository root.
func SpecConfigs(repoRoot string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "gen", "*", "gen.yaml"))
	if err != nil {
		return nil, fmt.Errorf("spec configs: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("spec configs: no gen/*/gen.yaml under %s", repoRoot)
	}
	out := make([]string, len(files))
	for i, f := range files {
		rel, err := filepath.Rel(repoRoot, f)
		if err != nil {
			return nil, fmt.Errorf("spec configs: %w", err)
		}
		out[i] = filepath.ToSlash(rel)
	}
	return out, nil
}

// SpecTargets returns the packages in gen/ as targets: the schemas come
// from running the generator on each configuration (in memory; nothing is
// written), the code checked is gen/ itself, imported through the
// repository's module path. Doc is the spec path relative to the
// repository, for example "spec/core.yaml".
func SpecTargets(ctx context.Context, repoRoot string) ([]Target, error) {
	modPath, err := modulePath(repoRoot)
	if err != nil {
		return nil, err
	}
	configs, err := SpecConfigs(repoRoot)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, c := range configs {
		cfg, err := generator.LoadConfig(filepath.Join(repoRoot, filepath.FromSlash(c)))
		if err != nil {
			return nil, err
		}
		res, err := generator.Generate(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", c, err)
		}
		doc, err := filepath.Rel(repoRoot, cfg.Spec)
		if err != nil {
			return nil, fmt.Errorf("spec targets: %w", err)
		}
		dir := path.Dir(c)
		out = append(out, Target{
			Doc:    filepath.ToSlash(doc),
			Import: modPath + "/" + dir,
			Dir:    filepath.Join(repoRoot, filepath.FromSlash(dir)),
			Types:  res.Types,
		})
	}
	return out, nil
}

func modulePath(repoRoot string) (string, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("module path: %w", err)
	}
	p := modfile.ModulePath(data)
	if p == "" {
		return "", fmt.Errorf("module path: no module line in %s", filepath.Join(repoRoot, "go.mod"))
	}
	return p, nil
}

// recorder is the corpus generator (corpus.Apigen) that also keeps each
// package's Result.Types.
type recorder struct {
	types map[string][]generator.SchemaType
}

func (recorder) Name() string { return "apigen" }

func (r recorder) Generate(ctx context.Context, job corpus.Job) error {
	res, err := generator.Generate(ctx, generator.Config{
		Spec:    job.SpecPath,
		Package: job.Package,
		Output:  job.Dir,
		Source:  job.Doc.Path,
	})
	if err != nil {
		if strings.Contains(err.Error(), "internal error") {
			return &corpus.PanicError{Value: err.Error()}
		}
		return err
	}
	if err := generator.WriteFiles(job.Dir, res.Files); err != nil {
		return fmt.Errorf("apigen: %w", err)
	}
	r.types[job.Package] = res.Types
	return nil
}

// CorpusTargets generates a package for each of docs into the scratch
// module at workDir with corpus.Run (building, not vetting), and returns
// the packages that built as targets, with the corpus report. Doc is the
// document's corpus path.
func CorpusTargets(ctx context.Context, repoRoot, corpusDir, workDir string, docs []corpus.Document) ([]Target, *corpus.Report, error) {
	rec := recorder{types: map[string][]generator.SchemaType{}}
	rep, err := corpus.Run(ctx, rec, docs, corpus.Options{RepoRoot: repoRoot, CorpusDir: corpusDir, WorkDir: workDir, SkipVet: true})
	if err != nil {
		return nil, nil, err
	}
	var out []Target
	for _, o := range rep.Outcomes {
		if !o.OK() {
			continue
		}
		out = append(out, Target{
			Doc:    o.Doc.Path,
			Import: corpus.ScratchModule + "/" + o.Package,
			Dir:    filepath.Join(workDir, o.Package),
			Types:  rec.types[o.Package],
		})
	}
	return out, rep, nil
}
