package coretest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/allsource-go/allsource/coretest"
)

func ExampleNewServer() {
	srv := coretest.NewServer(coretest.WithAPIKeys("ask_example"))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/events",
		strings.NewReader(`{"event_type":"user.created","entity_id":"user-1","payload":{"name":"Ada"}}`))
	req.Header.Set("Authorization", "Bearer ask_example")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status, srv.EventCount())

	// Faults are injected per operation, named by the spec's operationId.
	srv.Inject(coretest.Core, "getStats", 1, coretest.Fault{Status: http.StatusServiceUnavailable})
	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/stats", nil)
	req.Header.Set("X-API-Key", "ask_example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Retry-After"), string(body))
	// Output:
	// 200 OK 1
	// 503 Service Unavailable 1 {"error":"Service unavailable: queue full"}
}
