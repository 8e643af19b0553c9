package server

import (
	_ "embed" // the OpenAPI document
	"net/http"
)

// openAPIDocument is docs/openapi.yaml as JSON, converted when the
// document changes (go generate; a test holds the two equal), so the
// sidecar serves its contract without linking a YAML parser.
//
//go:generate go run ../../internal/yamltojson -in ../../docs/openapi.yaml -out openapi.json
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI document the sidecar serves at
// /openapi.json.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPI serves the document; it needs no token, like /healthz.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	writeBody(w, http.StatusOK, openAPIDocument) // it ends with its newline, as go generate writes it
}
