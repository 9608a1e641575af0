package pgtest

import (
	"context"
	"os"
	"testing"
)

func TestStartServesQueriesAndCleansUp(t *testing.T) {
	var dir string
	t.Run("server", func(t *testing.T) {
		s := Start(t)
		dir = s.dir
		_, db := s.NewDB(t)
		var n int
		if err := db.QueryRowContext(context.Background(), "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
			t.Fatalf("SELECT = %d, %v", n, err)
		}
	})
	if dir == "" {
		return
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", dir, err)
	}
}
