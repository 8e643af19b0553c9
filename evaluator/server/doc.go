// Package server is the sidecar's HTTP API (docs/sidecar.md): the native JSON
// routes, OpenFeature OFREP single and bulk evaluation, status, health,
// readiness and Prometheus metrics. Every request reads the snapshot the
// store serves at that moment, so a reload never blocks or splits an answer.
package server
