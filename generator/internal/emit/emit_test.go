package emit

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
)

// TestFilesFromModel renders a model built by hand, without a document:
// the emitters need nothing but the model.
func TestFilesFromModel(t *testing.T) {
	ns := naming.NewNamespace()
	ns.Reserve("Client", "NewClient", "NewClientWith", "Pet", "GetPet", "WithToken")
	pet := &ir.Type{Name: "Pet", Kind: ir.Struct, Doc: "A pet.", Fields: []*ir.Field{
		{Name: "Name", JSON: "name", Type: ir.String, Required: true},
		{Name: "Age", JSON: "age", Type: ir.Int64},
	}}
	petRef := &ir.TypeRef{Kind: ir.Named, Name: "Pet", Named: pet}
	api := &ir.API{
		Title:   "Pets",
		Names:   ns,
		Imports: map[string]string{"example.com/runtime": "runtime"},
		Types:   []*ir.Type{pet},
		Operations: []*ir.Operation{{
			ID: "getPet", GoName: "GetPet", Method: "GET", Path: "/pets/{id}", RetrySafe: true,
			PathParams: []*ir.Param{{Name: "id", GoName: "id", In: "path", Style: "simple", Required: true, Type: ir.String}},
			Result:     ir.Result{Kind: ir.BodyJSON, Status: "200", Type: petRef},
			Successes:  []*ir.Success{{Status: "200", Kind: ir.BodyJSON, Type: petRef}},
		}},
		Auth: []*ir.AuthScheme{{Key: "token", Func: "WithToken", Kind: "bearer"}},
	}
	var warnings []string
	files, err := Files(api, Config{Package: "pets", Source: "pets.yaml", RuntimeImport: "example.com/runtime"},
		func(_ ir.Pos, format string, _ ...any) { warnings = append(warnings, format) })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Name] = string(f.Content)
		if strings.HasSuffix(f.Name, ".go") {
			if _, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Content, 0); err != nil {
				t.Errorf("%s does not parse: %v", f.Name, err)
			}
		}
	}
	for name, want := range map[string][]string{
		"types.go":      {"type Pet struct", "Name string `json:\"name\"`", "Age runtime.Opt[int64] `json:\"age,omitzero\"`"},
		"operations.go": {"func (c *Client) GetPet(ctx context.Context, id string"},
		"auth.go":       {"func WithToken(token string) runtime.Option"},
		"client.go":     {"func NewClient(baseURL string"},
		"api.md":        {"GetPet"},
	} {
		content, ok := got[name]
		if !ok {
			t.Errorf("no %s among %d files", name, len(files))
			continue
		}
		for _, w := range want {
			if !strings.Contains(content, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, content)
			}
		}
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
}
