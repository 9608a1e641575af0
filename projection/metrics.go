package projection

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StatsSource is what the metrics adapter reads: a worker's Handle (of any
// state type) is one.
type StatsSource interface {
	Stats() Stats
}

// MetricsHandler serves the Stats of the named workers in the Prometheus
// text exposition format (version 0.0.4), which a Prometheus server
// scrapes and an OpenTelemetry collector's prometheus receiver turns into
// OpenTelemetry metrics. Each metric carries the worker's name as the
// label "projection". The apply rate is rate() of
// allsource_projection_applied_total; checkpoint age is time() minus
// allsource_projection_last_checkpoint_timestamp_seconds.
//
// The format is written here rather than with Prometheus's client library:
// the format is small and stable, and the library would bring a dozen
// modules (protobuf among them) to every user of this package.
func MetricsHandler(workers map[string]StatsSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = WriteMetrics(w, workers)
	})
}

// metric is one metric family of WriteMetrics.
type metric struct {
	name, kind, help string
	value            func(Stats) float64
}

var metrics = []metric{
	{"allsource_projection_applied_total", "counter", "Events reduced into the state.", func(s Stats) float64 { return float64(s.Applied) }},
	{"allsource_projection_duplicates_total", "counter", "Events received again and skipped.", func(s Stats) float64 { return float64(s.Duplicates) }},
	{"allsource_projection_skipped_total", "counter", "Events the poison policy skipped.", func(s Stats) float64 { return float64(s.Skipped) }},
	{"allsource_projection_recoveries_total", "counter", "Rebuilds from the last snapshot after missed events.", func(s Stats) float64 { return float64(s.Recoveries) }},
	{"allsource_projection_connects_total", "counter", "Stream connections opened.", func(s Stats) float64 { return float64(s.Connects) }},
	{"allsource_projection_checkpoints_total", "counter", "Snapshots saved.", func(s Stats) float64 { return float64(s.Checkpoints) }},
	{"allsource_projection_position", "gauge", "Position up to which the state is complete.", func(s Stats) float64 { return float64(s.Position) }},
	{"allsource_projection_acked_position", "gauge", "Last position acknowledged to Core.", func(s Stats) float64 { return float64(s.Acked) }},
	{"allsource_projection_lag_events", "gauge", "Positions between the state and the highest position seen.", func(s Stats) float64 { return float64(s.Lag) }},
	{"allsource_projection_caught_up", "gauge", "1 when the worker is caught up.", func(s Stats) float64 {
		if s.CaughtUp {
			return 1
		}
		return 0
	}},
	{"allsource_projection_last_checkpoint_timestamp_seconds", "gauge", "When the last snapshot was saved (Unix time).", func(s Stats) float64 {
		if s.LastCheckpoint.IsZero() {
			return 0
		}
		return float64(s.LastCheckpoint.UnixNano()) / float64(time.Second)
	}},
	{"allsource_projection_checkpoint_duration_seconds", "gauge", "How long the last snapshot's save took.", func(s Stats) float64 { return s.CheckpointDuration.Seconds() }},
}

// WriteMetrics writes the Stats of the named workers to w in the
// Prometheus text exposition format.
func WriteMetrics(w io.Writer, workers map[string]StatsSource) error {
	names := make([]string, 0, len(workers))
	for n := range workers {
		names = append(names, n)
	}
	slices.Sort(names)
	stats := make([]Stats, len(names))
	for i, n := range names {
		stats[i] = workers[n].Stats()
	}
	var b strings.Builder
	for _, m := range metrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.kind)
		for i, n := range names {
			b.WriteString(m.name)
			b.WriteString(`{projection="`)
			b.WriteString(labelValue(n))
			b.WriteString(`"} `)
			b.WriteString(strconv.FormatFloat(m.value(stats[i]), 'g', -1, 64))
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// labelValue escapes a label value: backslash, double quote and newline.
func labelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
