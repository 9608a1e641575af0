// Package templates holds the text templates the generator uses for the
// files that are not Go code built with jennifer: the package documentation
// (doc.go, which carries the go:generate line) and the api.md index of every
// operation.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed *.tmpl
var files embed.FS

// FS returns the templates, named doc.go.tmpl and api.md.tmpl.
func FS() fs.FS { return files }
