package corpus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
)

// OapiCodegen is oapi-codegen v2 used as a library, configured as its command
// would be for "models + client" with resolve-type-name-collisions on. It is
// the side-by-side baseline of the corpus run and the benchmarks.
//
// oapi-codegen keeps its configuration in package-level state, so calls must
// not run concurrently; Run calls generators one document at a time.
type OapiCodegen struct {
	// ImportMapping maps external documents to Go import paths, as its
	// --import-mapping option does.
	ImportMapping map[string]string
}

// Name implements Generator.
func (OapiCodegen) Name() string { return "oapi-codegen v2" }

// Generate implements Generator: it loads job.SpecPath and writes the
// generated code to <Package>.gen.go in job.Dir. A Swagger 2.0 document counts
// as a failure: oapi-codegen reads OpenAPI 3 only, and its loader reads a 2.0
// document as OpenAPI 3, ignoring definitions, parameters and responses, so
// output that happens to compile is not a client of that API.
func (g OapiCodegen) Generate(ctx context.Context, job Job) error {
	if job.Doc.Swagger2 {
		return errors.New("oapi-codegen: Swagger 2.0 is not supported (OpenAPI 3 only)")
	}
	code, err := g.GenerateFile(ctx, job.SpecPath, job.Package)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(job.Dir, job.Package+".gen.go"), []byte(code), 0o644); err != nil {
		return fmt.Errorf("oapi-codegen: write output: %w", err)
	}
	return nil
}

// GenerateFile loads the document at specPath the way oapi-codegen's command
// does and returns the generated source of package pkg. Remote references are
// refused: the corpus and the benchmarks run offline.
func (g OapiCodegen) GenerateFile(ctx context.Context, specPath, pkg string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	spec, err := util.LoadSwaggerWithOverlay(specPath, util.LoadSwaggerWithOverlayOpts{
		Strict:              true,
		AllowRemoteRefsFrom: []string{},
	})
	if err != nil {
		return "", fmt.Errorf("oapi-codegen: load %s: %w", filepath.Base(specPath), err)
	}
	return g.generate(spec, pkg)
}

// generate runs oapi-codegen's code generation on a loaded document.
func (g OapiCodegen) generate(spec *openapi3.T, pkg string) (string, error) {
	cfg := codegen.Configuration{
		PackageName: pkg,
		Generate: codegen.GenerateOptions{
			Models: true,
			Client: true,
		},
		OutputOptions: codegen.OutputOptions{
			ResolveTypeNameCollisions: true,
		},
		ImportMapping:       g.ImportMapping,
		AllowRemoteRefsFrom: []string{},
	}
	cfg = cfg.UpdateDefaults()
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("oapi-codegen: configuration: %w", err)
	}
	code, err := codegen.Generate(spec, cfg)
	if err != nil {
		return "", fmt.Errorf("oapi-codegen: generate: %w", err)
	}
	return code, nil
}
