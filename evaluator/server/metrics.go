package server

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// routes caches each route's children of requests and latency by
	// status code. WithLabelValues hashes its labels and takes a lock on
	// every call; a cache hit is a map read and an atomic load. The map is
	// filled before the server serves and only read afterwards.
	routes map[string]*routeMetrics
}

// routeMetrics holds one route's metric children by status code (100–599).
type routeMetrics struct {
	byCode [500]atomic.Pointer[routeObservers]
}

type routeObservers struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// unmatchedRoute labels requests no route pattern matched.
const unmatchedRoute = "unmatched"

func newMetrics(src Source) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promoctl_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "promoctl_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status code.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
		routes: map[string]*routeMetrics{unmatchedRoute: {}},
	}
	m.registry.MustRegister(
		m.requests, m.latency,
		storeCollector{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// addRoute prepares the cache of a route pattern; call it before serving.
func (m *metrics) addRoute(pattern string) {
	if m.routes[pattern] == nil {
		m.routes[pattern] = &routeMetrics{}
	}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	o := m.observers(route, code)
	o.requests.Inc()
	o.latency.Observe(d.Seconds())
}

func (m *metrics) observers(route string, code int) *routeObservers {
	if route == "" {
		route = unmatchedRoute
	}
	rm := m.routes[route]
	if rm == nil || code < 100 || code > 599 {
		return m.newObservers(route, code) // not cached; never happens with the server's own routes
	}
	slot := &rm.byCode[code-100]
	if o := slot.Load(); o != nil {
		return o
	}
	// Two requests may both miss; WithLabelValues gives both the same
	// children, so either store is right.
	o := m.newObservers(route, code)
	slot.Store(o)
	return o
}

func (m *metrics) newObservers(route string, code int) *routeObservers {
	c := strconv.Itoa(code)
	return &routeObservers{requests: m.requests.WithLabelValues(route, c), latency: m.latency.WithLabelValues(route, c)}
}

// storeCollector reads the store's status at scrape time, so the store
// needs no metrics code and the figures are never stale.
type storeCollector struct{ src Source }

var (
	reloadsDesc = prometheus.NewDesc("promoctl_reloads_total",
		"Reloads that saw a change, by result (ok: a new snapshot serves; failed: the last good one stays).", []string{"result"}, nil)
	lastSuccessDesc = prometheus.NewDesc("promoctl_last_reload_success_timestamp_seconds",
		"Unix time of the last successful reload (0 before the first).", nil, nil)
	lastReloadOKDesc = prometheus.NewDesc("promoctl_last_reload_ok",
		"1 when the latest reload attempt succeeded, 0 when it failed.", nil, nil)
	readyDesc = prometheus.NewDesc("promoctl_ready",
		"1 once a valid snapshot serves.", nil, nil)
	snapshotInfoDesc = prometheus.NewDesc("promoctl_snapshot_info",
		"The serving snapshot; always 1, the revision is in the labels.", []string{"revision", "commit", "content_hash"}, nil)
	snapshotAgeDesc = prometheus.NewDesc("promoctl_snapshot_age_seconds",
		"Seconds since the serving snapshot was loaded.", nil, nil)
	objectsDesc = prometheus.NewDesc("promoctl_snapshot_objects",
		"Objects in the serving snapshot by kind.", []string{"kind"}, nil)
	sourceInfoDesc = prometheus.NewDesc("promoctl_source_info",
		"What the sidecar serves from; always 1, the source is in the labels.", []string{"kind", "location", "verify_key"}, nil)
	bundleInfoDesc = prometheus.NewDesc("promoctl_bundle_info",
		"The serving bundle; always 1, its hash and signing key are in the labels.", []string{"sha256", "signed_by", "verified"}, nil)
	bundleTimeDesc = prometheus.NewDesc("promoctl_bundle_commit_timestamp_seconds",
		"Unix time of the commit the serving bundle was built from (0 without one).", nil, nil)
	fetchesDesc = prometheus.NewDesc("promoctl_bundle_fetches_total",
		"Download attempts of the bundle URL by result (a 304 is ok).", []string{"result"}, nil)
	lastFetchOKDesc = prometheus.NewDesc("promoctl_bundle_last_fetch_ok",
		"1 when the latest download attempt of the bundle URL succeeded, 0 when it failed.", nil, nil)
	lastFetchDurationDesc = prometheus.NewDesc("promoctl_bundle_last_fetch_duration_seconds",
		"How long the latest download attempt of the bundle URL took.", nil, nil)
)

func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reloadsDesc, lastSuccessDesc, lastReloadOKDesc, readyDesc, snapshotInfoDesc, snapshotAgeDesc, objectsDesc,
		sourceInfoDesc, bundleInfoDesc, bundleTimeDesc, fetchesDesc, lastFetchOKDesc, lastFetchDurationDesc} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Status()
	ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(st.ReloadsOK), "ok")
	ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(st.ReloadsFailed), "failed")
	var lastSuccess float64
	if !st.LastSuccess.IsZero() {
		lastSuccess = float64(st.LastSuccess.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, lastSuccess)
	if st.LastReload != nil {
		ch <- prometheus.MustNewConstMetric(lastReloadOKDesc, prometheus.GaugeValue, boolFloat(st.LastReload.OK))
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, boolFloat(st.Ready))
	src := st.Source
	ch <- prometheus.MustNewConstMetric(sourceInfoDesc, prometheus.GaugeValue, 1, src.Kind, src.Location, src.VerifyKey)
	if f := src.LastFetch; f != nil {
		ch <- prometheus.MustNewConstMetric(fetchesDesc, prometheus.CounterValue, float64(src.FetchesOK), "ok")
		ch <- prometheus.MustNewConstMetric(fetchesDesc, prometheus.CounterValue, float64(src.FetchesFailed), "failed")
		ch <- prometheus.MustNewConstMetric(lastFetchOKDesc, prometheus.GaugeValue, boolFloat(f.OK))
		ch <- prometheus.MustNewConstMetric(lastFetchDurationDesc, prometheus.GaugeValue, f.Duration.Seconds())
	}
	if b := st.Bundle; b != nil && st.Ready {
		ch <- prometheus.MustNewConstMetric(bundleInfoDesc, prometheus.GaugeValue, 1, b.Hash, b.SignedBy, strconv.FormatBool(b.Verified))
		var t float64
		if !b.Time.IsZero() {
			t = float64(b.Time.Unix())
		}
		ch <- prometheus.MustNewConstMetric(bundleTimeDesc, prometheus.GaugeValue, t)
	}
	if !st.Ready {
		return
	}
	ch <- prometheus.MustNewConstMetric(snapshotInfoDesc, prometheus.GaugeValue, 1, st.Revision, st.Commit, st.ContentHash)
	ch <- prometheus.MustNewConstMetric(snapshotAgeDesc, prometheus.GaugeValue, time.Since(st.LoadedAt).Seconds())
	for kind, n := range map[string]int{
		"features": st.Counts.Features, "plans": st.Counts.Plans, "customers": st.Counts.Customers,
		"promotions": st.Counts.Promotions, "grants": st.Counts.Grants,
	} {
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n), kind)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
