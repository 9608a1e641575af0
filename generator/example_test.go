package generator_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/allsource-go/allsource/generator"
)

// Generate a client package from a spec and write it to disk, as
// go generate does with apigen -config gen.yaml.
func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "apigen-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	spec := filepath.Join(dir, "pets.yaml")
	err = os.WriteFile(spec, []byte(`openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: A pet.
          content:
            application/json:
              schema:
                type: object
                required: [name]
                properties:
                  name: {type: string}
                  kind: {type: string, enum: [cat, dog]}
`), 0o644)
	if err != nil {
		log.Fatal(err)
	}
	res, err := generator.Generate(context.Background(), generator.Config{Spec: spec, Package: "pets", Source: "pets.yaml"})
	if err != nil {
		log.Fatal(err)
	}
	if err := generator.WriteFiles(filepath.Join(dir, "pets"), res.Files); err != nil {
		log.Fatal(err)
	}
	for _, f := range res.Files {
		fmt.Println(f.Name)
	}
	// Output:
	// api.md
	// client.go
	// doc.go
	// json.go
	// operations.go
	// types.go
}
