package emit

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// errorsFile renders errors.go: the sentinels of x-error-codes and the
// list every operation hands to the runtime. It returns nil without codes.
func (e *emitter) errorsFile() *jen.File {
	if len(e.api.ErrorCodes) == 0 {
		return nil
	}
	f := e.newFile()
	var defs, list []jen.Code
	for _, c := range e.api.ErrorCodes {
		text := fmt.Sprintf("%s matches an error response whose body carries the\ncode %q (errors.Is).", c.Name, c.Code)
		switch c.Class {
		case "":
		case "none":
			text += "\nSuch a response matches no status class sentinel of the runtime."
		default:
			text += fmt.Sprintf("\nSuch a response also matches runtime.%s, whatever its status.", c.Class)
		}
		fields := jen.Dict{
			jen.Id("Code"): jen.Lit(c.Code),
			jen.Id("Text"): jen.Lit(e.cfg.Package + ": " + strings.ReplaceAll(c.Code, "_", " ")),
		}
		switch c.Class {
		case "":
		case "none":
			fields[jen.Id("NoClass")] = jen.True()
		default:
			fields[jen.Id("Class")] = e.rt(c.Class)
		}
		defs = append(defs, doc(text, c.Doc).Id(c.Name).Op("=").Op("&").Add(e.rt("ErrorCode")).Values(fields))
		list = append(list, jen.Id(c.Name))
	}
	f.Add(doc("The error codes the API declares (x-error-codes)."))
	f.Var().Defs(defs...)
	f.Line()
	f.Add(doc(e.api.ErrorCodesVar + " are the declared codes, handed to the runtime with every request."))
	f.Var().Id(e.api.ErrorCodesVar).Op("=").Index().Op("*").Add(e.rt("ErrorCode")).Values(list...)
	return f
}
