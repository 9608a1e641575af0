package corpus

import (
	"context"
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator"
)

// Apigen is this repository's generator (package generator), as the corpus
// run and the benchmarks use it.
type Apigen struct {
	// ImportMapping maps external documents to Go import paths; see
	// generator.Config.ImportMapping.
	ImportMapping map[string]string
}

// Name implements Generator.
func (Apigen) Name() string { return "apigen" }

// Generate implements Generator: it generates the package for job.Doc and
// writes its files into job.Dir. The generator turns its own panics into an
// "internal error"; Generate reports those as a *PanicError so that a refusal
// and a crash stay apart.
func (g Apigen) Generate(ctx context.Context, job Job) error {
	res, err := generator.Generate(ctx, generator.Config{
		Spec:          job.SpecPath,
		Package:       job.Package,
		Output:        job.Dir,
		ImportMapping: g.ImportMapping,
		Source:        job.Doc.Path,
	})
	if err != nil {
		if strings.Contains(err.Error(), "internal error") {
			return &PanicError{Value: err.Error()}
		}
		return err
	}
	if err := generator.WriteFiles(job.Dir, res.Files); err != nil {
		return fmt.Errorf("apigen: %w", err)
	}
	return nil
}
