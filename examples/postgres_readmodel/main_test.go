package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/allsource-go/allsource/internal/pgtest"
)

func TestRunFillsTheTableOnce(t *testing.T) {
	t.Setenv("ALLSOURCE_URL", "")
	dsn, _ := pgtest.Start(t).NewDB(t)
	var out bytes.Buffer
	if err := run([]string{"-dsn", dsn}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"caught up: 5 events applied",
		"ada        2 orders    52.50",
		"grace      2 orders    10.00",
		"linus      1 orders     3.00",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
