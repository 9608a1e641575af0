// Package ogenbench compares the generated AllSource client with a client
// that ogen generates from the same spec (package ogcore, regenerated with
// go generate), on the same query page, side by side in one run (go test
// -bench . -benchmem). It is a module of its own so that ogen and its
// runtime are dependencies of the benchmark only, never of the main module.
package ogenbench

//go:generate go run github.com/ogen-go/ogen/cmd/ogen@v1.24.0 --config ogcore/ogen.yml --target ogcore --package ogcore --clean ../../spec/core.yaml
