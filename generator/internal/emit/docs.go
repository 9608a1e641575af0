package emit

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
	"text/template"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/templates"
)

// docOp is one row of the api.md index.
type docOp struct {
	Go, Method, Path, Summary string
}

// docData is what the templates see.
type docData struct {
	Source, Package, Title, Version, Intro, Command, ConfigFile string
	Operations                                                  []docOp
	Types                                                       []string
	ResponseTypes                                               []string
}

func commentLines(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			b.WriteString("//")
			continue
		}
		b.WriteString("// " + l)
	}
	return b.String()
}

// docs renders doc.go and api.md from the templates.
func (e *emitter) docs(ops []*ir.Operation) ([]File, error) {
	d := docData{Source: e.cfg.Source, Package: e.cfg.Package, Command: e.cfg.Command, ConfigFile: e.cfg.ConfigFile}
	d.Title, d.Version = e.api.Title, e.api.Version
	if d.Title == "" {
		d.Title = "The API"
	}
	intro := fmt.Sprintf("Package %s is the Go client of %s", e.cfg.Package, oneLine(d.Title))
	if len(ops) == 0 && e.api.WebSocket == nil {
		intro = fmt.Sprintf("Package %s holds the types of %s", e.cfg.Package, oneLine(d.Title))
	}
	if d.Version != "" {
		intro += " (version " + oneLine(d.Version) + ")"
	}
	intro += ", generated from " + d.Source + "."
	if strings.TrimSpace(e.api.Description) != "" {
		intro += "\n\n" + e.api.Description
	}
	d.Intro = intro
	for _, o := range ops {
		s := o.Summary
		if s == "" {
			s = firstSentence(o.Description)
		}
		d.Operations = append(d.Operations, docOp{Go: o.GoName, Method: o.Method, Path: o.Path, Summary: mdCell(s)})
	}
	for _, n := range e.api.Types {
		d.Types = append(d.Types, n.Name)
	}
	for _, n := range e.api.ResponseTypes() {
		d.ResponseTypes = append(d.ResponseTypes, n.Name)
	}
	var out []File
	for _, t := range []struct{ tmpl, name string }{{"doc.go.tmpl", "doc.go"}, {"api.md.tmpl", "api.md"}} {
		f, err := renderTemplate(t.tmpl, t.name, d)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// renderTemplate renders the named template of the templates package into
// file name, formatting Go source.
func renderTemplate(tmplName, name string, data any) (File, error) {
	funcs := template.FuncMap{"comment": commentLines}
	tmpl, err := template.New(tmplName).Funcs(funcs).ParseFS(templates.FS(), tmplName)
	if err != nil {
		return File{}, fmt.Errorf("apigen: parse template %s: %w", tmplName, err)
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, tmplName, data); err != nil {
		return File{}, fmt.Errorf("apigen: render %s: %w", name, err)
	}
	content := buf.Bytes()
	if strings.HasSuffix(name, ".go") {
		if content, err = format.Source(content); err != nil {
			return File{}, fmt.Errorf("apigen: format %s: %w", name, err)
		}
	}
	return File{Name: name, Content: content}, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstSentence(s string) string {
	s = oneLine(s)
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

func mdCell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
