package generator

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/getkin/kin-openapi/openapi3"
)

// Diagnostics: warnings about what the generated code cannot express as
// the document says, and the first reason to refuse the document.

// warn records a warning at the origin of o (which may be nil).
func (g *gen) warn(o *openapi3.Origin, format string, args ...any) {
	g.warnAt(posOf(o), format, args...)
}

// warnAt records a warning at pos.
func (g *gen) warnAt(pos ir.Pos, format string, args ...any) {
	d := Diagnostic{File: g.cfg.Source, Message: "warning: " + fmt.Sprintf(format, args...)}
	if pos.File != "" {
		d.File = pos.File
	}
	d.Line, d.Column = pos.Line, pos.Column
	if k := d.String(); !g.warned[k] {
		g.warned[k] = true
		g.warnings = append(g.warnings, d)
	}
}

// fail records a reason to refuse the spec, at the origin of o.
func (g *gen) fail(o *openapi3.Origin, format string, args ...any) {
	if g.err != nil {
		return
	}
	d := Diagnostic{File: g.cfg.Source, Message: fmt.Sprintf(format, args...)}
	if o != nil && o.Key != nil {
		if o.Key.File != "" {
			d.File = o.Key.File
		}
		d.Line, d.Column = o.Key.Line, o.Key.Column
	}
	g.err = &SpecError{Diagnostic: d}
}

// posOf returns the position o records, or the zero Pos.
func posOf(o *openapi3.Origin) ir.Pos {
	if o == nil || o.Key == nil {
		return ir.Pos{}
	}
	return ir.Pos{File: o.Key.File, Line: o.Key.Line, Column: o.Key.Column}
}

func originOf(s *openapi3.Schema) *openapi3.Origin {
	if s == nil {
		return nil
	}
	return s.Origin
}

// checkValues refuses a schema whose default or enum values do not have its
// type.
func (g *gen) checkValues(s *openapi3.Schema) {
	types, null := schemaTypes(s)
	if len(types) != 1 {
		return
	}
	ok := func(v any) bool {
		if v == nil {
			return null || s.Nullable
		}
		switch types[0] {
		case "string":
			_, is := v.(string)
			return is
		case "integer":
			f, is := v.(float64)
			return is && f == float64(int64(f))
		case "number":
			_, is := v.(float64)
			return is
		case "boolean":
			_, is := v.(bool)
			return is
		case "array":
			_, is := v.([]any)
			return is
		case "object":
			_, is := v.(map[string]any)
			return is
		}
		return true
	}
	if s.Default != nil || hasNullDefault(s) {
		switch {
		case ok(s.Default):
		case quotedNumber(s.Default, types[0]):
			// A number written as a string (a decimal kept exact, say): the
			// value agrees with the type, only its spelling does not.
			g.warn(s.Origin, "default value %s of a schema of type %s is a number written as a string; read as the number", jsonText(s.Default), types[0])
		default:
			g.fail(s.Origin, "default value %s does not have the schema's type %s", jsonText(s.Default), types[0])
		}
	}
	for _, v := range s.Enum {
		if types[0] == "string" && v != nil {
			continue // numbers listed for a string are read as their text
		}
		if v == nil {
			continue // an enum that lists null makes the schema nullable
		}
		if !ok(v) {
			g.fail(s.Origin, "enum value %s does not have the schema's type %s", jsonText(v), types[0])
			return
		}
	}
}

// quotedNumber reports whether v is a string holding a JSON number that is
// a valid value of type typ ("number" or "integer").
func quotedNumber(v any, typ string) bool {
	text, is := v.(string)
	if !is || (typ != "number" && typ != "integer") {
		return false
	}
	var n json.Number
	if json.Unmarshal([]byte(text), &n) != nil || string(n) != text {
		return false
	}
	if typ == "integer" {
		return !strings.ContainsAny(text, ".eE")
	}
	return true
}

// hasNullDefault reports whether the spec writes "default: null".
func hasNullDefault(s *openapi3.Schema) bool {
	if s.Origin == nil {
		return false
	}
	_, ok := s.Origin.Fields.Lookup("default")
	return ok && s.Default == nil
}

// conflicting reports whether two schemas for one property have different
// types.
func conflicting(a, b *openapi3.SchemaRef) bool {
	if a == nil || b == nil || a.Value == nil || b.Value == nil {
		return false
	}
	ta, _ := schemaTypes(a.Value)
	tb, _ := schemaTypes(b.Value)
	return len(ta) == 1 && len(tb) == 1 && ta[0] != tb[0]
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
