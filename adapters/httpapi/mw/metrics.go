package mw

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Metrics counts what the router serves, in Prometheus' text format:
// requests by route pattern (never the raw path, so user ids do not become
// label values), method and status; their latency; and refused tokens by
// reason. A nil *Metrics records nothing.
//
// It uses github.com/VictoriaMetrics/metrics rather than
// prometheus/client_golang: the same exposition format, standard `le`
// histogram buckets and the Go runtime's go_* metrics, for about a tenth of
// the binary size (client_golang brings protobuf, +3 MB, which would put the
// container image over its 25 MB budget).
type Metrics struct {
	set *metrics.Set

	// series caches the request counter and histogram of each route,
	// method and status seen, so that counting a request builds no label
	// strings. The keys are bounded: route patterns, knownMethod's methods
	// and status codes.
	mu     sync.RWMutex
	series map[seriesKey]*requestSeries
}

type seriesKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	requests *metrics.Counter
	duration *metrics.PrometheusHistogram
}

// latencyBuckets are the upper bounds of the latency histogram, in seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics records the router's metrics in set.
func NewMetrics(set *metrics.Set) *Metrics {
	return &Metrics{set: set, series: map[seriesKey]*requestSeries{}}
}

// MetricsHandler serves the Go runtime's and the process's metrics (go_*,
// process_*) and those in set, in Prometheus' text format.
func MetricsHandler(set *metrics.Set) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		metrics.WriteProcessMetrics(w)
		set.WritePrometheus(w)
	})
}

// Label builds name{k1="v1",k2="v2"} with the values escaped as the
// exposition format requires. kv alternates label names and values.
func Label(name string, kv ...string) string {
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i+1 < len(kv); i += 2 {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(kv[i+1]))
		b.WriteByte('"')
	}
	if len(kv) >= 2 {
		b.WriteByte('}')
	}
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func (m *Metrics) observe(route, method string, status int, d time.Duration, authFailure string) {
	if m == nil {
		return
	}
	s := m.requestSeries(route, knownMethod(method), status)
	s.requests.Inc()
	s.duration.Update(d.Seconds())
	if authFailure != "" {
		m.set.GetOrCreateCounter(Label("todo_auth_failures_total", "reason", authFailure)).Inc()
	}
}

func (m *Metrics) requestSeries(route, method string, status int) *requestSeries {
	k := seriesKey{route: route, method: method, status: status}
	m.mu.RLock()
	s := m.series[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	s = &requestSeries{
		requests: m.set.GetOrCreateCounter(Label("todo_http_requests_total", "method", method, "route", route, "status", strconv.Itoa(status))),
		duration: m.set.GetOrCreatePrometheusHistogramExt(Label("todo_http_request_duration_seconds", "method", method, "route", route), latencyBuckets),
	}
	m.mu.Lock()
	if m.series == nil {
		m.series = map[seriesKey]*requestSeries{}
	}
	m.series[k] = s
	m.mu.Unlock()
	return s
}

// knownMethod keeps the method label to a fixed set: a client may send any
// token as its method.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
