package roundtrip

import (
	"fmt"
	"io"
	"strings"
)

// WriteReport writes the report: one line per document, the failures
// grouped by class (most frequent first) with up to examples examples per
// class (one per type), and the summary line last.
func WriteReport(w io.Writer, rep *Report, examples int) {
	for _, d := range rep.Docs {
		line := d.Line()
		if d.Skipped > 0 {
			line += fmt.Sprintf(" (%d listed types not declared, skipped)", d.Skipped)
		}
		if len(d.NoInstance) > 0 {
			line += fmt.Sprintf(" (no valid instance found for %d types)", len(d.NoInstance))
		}
		fmt.Fprintln(w, line)
	}
	groups := Classes(rep.Failures())
	if len(groups) > 0 {
		fmt.Fprintf(w, "\nfailures by class (%d classes):\n", len(groups))
	}
	for _, g := range groups {
		types := g.Types()
		fmt.Fprintf(w, "\n== %s: %d failures in %d types\n", g.Class, len(g.Failures), len(types))
		shown := map[string]bool{}
		n := 0
		for _, f := range g.Failures {
			k := f.Doc + " " + f.Type
			if shown[k] || n >= examples {
				continue
			}
			shown[k] = true
			n++
			fmt.Fprintf(w, "  %s %s%s\n", f.Doc, f.Type, pathNote(f.Path))
			fmt.Fprintf(w, "    input:  %s\n", Shorten(oneLine(f.Input), 300))
			if f.Output != "" {
				fmt.Fprintf(w, "    output: %s\n", Shorten(oneLine(f.Output), 300))
			}
			fmt.Fprintf(w, "    reason: %s\n", Shorten(oneLine(f.Detail), 400))
		}
		if len(types) > n {
			fmt.Fprintf(w, "  ... and %d more types\n", len(types)-n)
		}
	}
	if len(groups) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "synthesis %.1fs, driver build %.1fs, round trips %.1fs\n", rep.Synthesis.Seconds(), rep.Build.Seconds(), rep.Drive.Seconds())
	fmt.Fprintln(w, rep.Summary())
}

func pathNote(p string) string {
	if p == "" {
		return ""
	}
	return " at " + p
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}
