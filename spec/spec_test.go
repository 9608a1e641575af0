package spec

import (
	"context"
	"testing"
)

func TestDocumentsValidate(t *testing.T) {
	for _, n := range []string{Common, Core} {
		if _, err := Validate(context.Background(), n); err != nil {
			t.Errorf("%v", err)
		}
	}
}
