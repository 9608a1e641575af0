package projection

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMetricsHandlerServesTheWorkersStats(t *testing.T) {
	f := newFixture(t)
	f.ingest(400, 5, "test.created")
	h := f.start(f.config("metered", NewFileStore(t.TempDir())))
	waitCaughtUp(t, h)
	f.waitState(h)
	srv := httptest.NewServer(MetricsHandler(map[string]StatsSource{"metered": h, `odd"name`: h}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		"# TYPE allsource_projection_applied_total counter\n",
		`allsource_projection_applied_total{projection="metered"} 400` + "\n",
		`allsource_projection_position{projection="metered"} 400` + "\n",
		`allsource_projection_lag_events{projection="metered"} 0` + "\n",
		`allsource_projection_caught_up{projection="metered"} 1` + "\n",
		`allsource_projection_recoveries_total{projection="odd\"name"} 0` + "\n",
		`allsource_projection_checkpoints_total{projection="metered"} `,
		`allsource_projection_last_checkpoint_timestamp_seconds{projection="metered"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if st := h.Stats(); st.Head != 400 || st.LastCheckpoint.IsZero() || st.CheckpointDuration <= 0 {
		t.Errorf("stats %+v: want head 400 and a timed checkpoint", st)
	}
}
