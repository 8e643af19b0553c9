// Package apiclient is a Go client of the promoctl sidecar's native HTTP
// API, generated from the API's OpenAPI document (docs/openapi.yaml) by
// oapi-codegen at a pinned version. client.gen.go is generated: edit the
// document, then run `go generate ./examples/clients/go/apiclient`;
// `make lint` fails while the committed client is stale. The OFREP
// routes are left out: the OpenFeature OFREP providers are their clients.
package apiclient

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../../../../docs/openapi.yaml
