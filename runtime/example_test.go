package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/allsource-go/allsource/runtime"
)

// A generated method builds a Request and hands it to Do; errors come back
// typed.
func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ask_example" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/api/v1/events" {
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"error":"version_conflict","expected_version":3,"current_version":5}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"healthy"}`)
	}))
	defer srv.Close()

	c, err := runtime.New(srv.URL, runtime.WithAPIKey("ask_example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	var health struct {
		Status string `json:"status"`
	}
	err = c.Do(context.Background(), &runtime.Request{OperationID: "health", Method: http.MethodGet, Path: "/health", RetrySafe: true}, &health)
	fmt.Println(health.Status, err)

	// The code an API declares (x-error-codes) is a sentinel, and the
	// documented error schema of the status is decoded into Detail.
	errVersionConflict := &runtime.ErrorCode{Code: "version_conflict", Text: "example: version conflict", Class: runtime.ErrConflict}
	type versionConflict struct {
		Expected int64 `json:"expected_version"`
		Current  int64 `json:"current_version"`
	}
	err = c.Do(context.Background(), &runtime.Request{
		OperationID: "ingestEvent", Method: http.MethodPost, Path: "/api/v1/events",
		Body: []byte(`{"event_type":"order.placed","entity_id":"order-1","payload":{},"expected_version":3}`), ContentType: "application/json",
		ErrorCodes: []*runtime.ErrorCode{errVersionConflict},
		ErrorBody: func(status int) any {
			if status == http.StatusConflict {
				return new(versionConflict)
			}
			return nil
		},
	}, nil)
	var ae *runtime.APIError
	if errors.Is(err, errVersionConflict) && errors.As(err, &ae) {
		vc := ae.Detail.(*versionConflict)
		fmt.Printf("conflict: expected %d, current %d\n", vc.Expected, vc.Current)
	}
	// Output:
	// healthy <nil>
	// conflict: expected 3, current 5
}
