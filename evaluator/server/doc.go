// Package server is the sidecar's HTTP API (SPEC §6): the native JSON
// routes, OpenFeature OFREP single and bulk evaluation, status, health,
// readiness and Prometheus metrics. Every request reads the snapshot the
// store serves at that moment, so a reload never blocks or splits an answer.
package server
