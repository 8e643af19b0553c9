// Package docs holds no code of its own: its test checks docs/go.md
// against the Go client examples below it — every Go excerpt the page
// shows is code of an example as it stands, and every shell block runs
// against a real promoctl sidecar. The examples themselves are the
// packages gate, inprocess, ofrep, native (with apiclient) and hello.
package docs
