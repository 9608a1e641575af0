package generator

import "github.com/allsource-go/allsource/generator/internal/ir"

// Cycles among the named types: refused when a type is defined only in
// terms of itself, broken by pointers when a type contains itself.

// optionalObjectsByPointer holds every optional, non-nullable member whose
// type is an object or a union (of this package or of a mapped one) by
// pointer: nil when the member is absent.
// Scalars, slices and maps stay in runtime.Opt, which needs no allocation
// and no nil checks; an object is what a Go user expects behind a pointer
// (as encoding/json's users write it, and as a recursive member must be),
// and each runtime.Opt over a struct type costs its consumers a full copy of
// Opt's methods at every build.
func (g *gen) optionalObjectsByPointer() {
	for _, n := range g.types {
		if n.Kind != ir.Struct {
			continue
		}
		for _, f := range n.Fields {
			if f.Required || f.Nullable || f.Ptr || f.Type.IsNullable() {
				continue
			}
			t := f.Type.Unalias()
			if t.Kind == ir.Named && (t.Named.Kind == ir.Struct || t.Named.Kind == ir.Sum) || t.Kind == ir.Qual && t.Object {
				f.Ptr = true
			}
		}
	}
}

// breakCycles marks struct fields and sum variants that would make a type
// contain itself by value, so they are held by pointer.
func (g *gen) breakCycles() {
	for _, n := range g.types {
		switch n.Kind {
		case ir.Struct:
			for _, f := range n.Fields {
				if reachesByValue(f.Type, n, map[*ir.Type]bool{}) {
					f.Ptr = true
				}
			}
		case ir.Sum:
			for _, v := range n.Variants {
				if reachesByValue(v.Type, n, map[*ir.Type]bool{}) {
					n.Recursive = true
				}
			}
		}
	}
}

// reachesByValue reports whether a value of type t contains target by value.
func reachesByValue(t *ir.TypeRef, target *ir.Type, seen map[*ir.Type]bool) bool {
	if t != nil && t.Kind == ir.Null {
		return reachesByValue(t.Elem, target, seen)
	}
	if t == nil || t.Kind != ir.Named {
		return false
	}
	n := t.Named
	if n == target {
		return true
	}
	if seen[n] {
		return false
	}
	seen[n] = true
	switch n.Kind {
	case ir.Struct:
		for _, f := range n.Fields {
			if !f.Ptr && reachesByValue(f.Type, target, seen) {
				return true
			}
		}
	case ir.Sum:
		if n.Recursive {
			return false
		}
		for _, v := range n.Variants {
			if reachesByValue(v.Type, target, seen) {
				return true
			}
		}
	case ir.Alias, ir.Def:
		return reachesByValue(n.Under, target, seen)
	}
	return false
}

// checkCycles refuses named types that are defined only in terms of
// themselves (an alias of an alias of itself, say).
func (g *gen) checkCycles() {
	for _, n := range g.types {
		if n.Kind != ir.Alias && n.Kind != ir.Def {
			continue
		}
		seen := map[*ir.Type]bool{n: true}
		t := n.Under
		for t != nil && t.Kind == ir.Named && (t.Named.Kind == ir.Alias || t.Named.Kind == ir.Def) {
			if seen[t.Named] {
				g.fail(originOf(g.schemaOf[n]), "schema %s is defined only in terms of itself", n.Name)
				return
			}
			seen[t.Named] = true
			t = t.Named.Under
		}
		if t != nil && t.Kind == ir.Named && t.Named == n {
			g.fail(originOf(g.schemaOf[n]), "schema %s is defined only in terms of itself", n.Name)
			return
		}
	}
}
