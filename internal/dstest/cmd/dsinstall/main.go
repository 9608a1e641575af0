// Command dsinstall installs the Durable Streams reference server package
// where the tests look for it (see internal/dstest) and prints the
// directory. CI runs it once before the tests.
package main

import (
	"fmt"
	"os"

	"github.com/allsource-go/allsource/internal/dstest"
)

func main() {
	dir, err := dstest.Install()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dsinstall:", err)
		os.Exit(1)
	}
	fmt.Println(dstest.Package, "installed in", dir)
}
