package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/server"
	"github.com/promoctl/promoctl/internal/sidecartest"
)

// The OpenAPI document is the contract of the sidecar's HTTP API. These
// tests hold it to the code: the JSON the sidecar embeds is the YAML in
// docs/, every route the server registers is documented and every
// documented route is registered, and a real `promoctl serve` answers
// every documented status of every route — each request and each answer
// validated against the document, with objects closed so that a field the
// document does not name fails the test.

const documentPath = "../../docs/openapi.yaml"

func TestOpenAPIEmbeddedDocumentIsTheYAML(t *testing.T) {
	src, err := os.ReadFile(documentPath)
	require.NoError(t, err)
	fromYAML, err := yaml.YAMLToJSON(src)
	require.NoError(t, err)
	var want, got any
	require.NoError(t, json.Unmarshal(fromYAML, &want))
	require.NoError(t, json.Unmarshal(server.OpenAPIDocument(), &got))
	assert.Equal(t, want, got, "evaluator/server/openapi.json is stale: run go generate ./evaluator/server")
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadDocument(t)
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	require.NoError(t, doc.Validate(context.Background()))
}

// Every route of the server's mux is in the document, and every operation
// of the document is a route of the mux.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	registered := server.New(server.Config{}).Routes()
	var documented []string
	for path, item := range loadDocument(t).Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(registered)
	sort.Strings(documented)
	assert.Equal(t, registered, documented)
}

// The error codes the document names are those the server defines.
func TestOpenAPIErrorCodesAreTheServers(t *testing.T) {
	var documented []string
	for _, v := range loadDocument(t).Components.Schemas["ErrorCode"].Value.Enum {
		documented = append(documented, v.(string))
	}
	sort.Strings(documented)
	assert.Equal(t, serverErrorCodes(t), documented)
}

// serverErrorCodes reads the ErrorCode constants of the server package
// from its source, so that a code added there cannot be missed here.
func serverErrorCodes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	matches, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var codes []string
	for _, name := range matches {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "ErrorCode" {
					continue
				}
				for _, v := range vs.Values {
					lit := v.(*ast.BasicLit)
					code, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					codes = append(codes, code)
				}
			}
		}
	}
	require.NotEmpty(t, codes)
	sort.Strings(codes)
	return codes
}

// loadDocument loads the document the sidecar serves.
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(server.OpenAPIDocument())
	require.NoError(t, err)
	return doc
}

// contract validates requests and answers against the document and
// remembers which status of which operation, and which error code, a
// real answer has shown.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	seen   map[string]map[int]bool // operationId → statuses answered
	codes  map[string]bool         // error codes answered
	count  int                     // answers validated
}

func newContract(t *testing.T) *contract {
	t.Helper()
	doc := loadDocument(t)
	require.NoError(t, doc.Validate(context.Background()))
	for _, s := range doc.Components.Schemas {
		closeObjects(s, map[*openapi3.Schema]bool{})
	}
	doc.Servers = nil // the sidecars of the test listen on free ports
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return &contract{doc: doc, router: router, seen: map[string]map[int]bool{}, codes: map[string]bool{}}
}

// closeObjects forbids properties a schema does not name, in the schema
// and every schema below it: clients must accept new fields, but the
// server must not send one the document does not describe.
func closeObjects(ref *openapi3.SchemaRef, done map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || done[ref.Value] {
		return
	}
	s := ref.Value
	done[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: openapi3.Ptr(false)}
	}
	for _, p := range s.Properties {
		closeObjects(p, done)
	}
	closeObjects(s.Items, done)
	closeObjects(s.AdditionalProperties.Schema, done)
	for _, list := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
		for _, sub := range list {
			closeObjects(sub, done)
		}
	}
}

// call is one request of the contract test.
type call struct {
	name   string
	method string
	target string // path and query
	body   string
	header map[string]string
	status int    // the status expected
	code   string // the error code expected, if any
	// invalid marks a request the document itself refuses (what is sent
	// is a client's mistake); only its answer is validated.
	invalid bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends c to the sidecar at base with the token (if any), validates the
// request and the answer against the document and checks the status and
// the error code.
func (ct *contract) do(t *testing.T, base, token string, c call) answer {
	t.Helper()
	req := ct.request(t, base, token, c)
	route, params, err := ct.router.FindRoute(req)
	require.NoError(t, err, "%s: %s %s is not in the document", c.name, c.method, c.target)
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if !c.invalid {
		require.NoError(t, openapi3filter.ValidateRequest(context.Background(), input), "%s: the request does not follow the document", c.name)
	}

	resp, err := http.DefaultClient.Do(ct.request(t, base, token, c))
	require.NoError(t, err, c.name)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, c.name)
	require.Equal(t, c.status, resp.StatusCode, "%s: %s %s answered %s", c.name, c.method, c.target, body)

	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	})
	require.NoError(t, err, "%s: the answer does not follow the document:\n%s", c.name, body)

	ct.count++
	op := route.Operation.OperationID
	if ct.seen[op] == nil {
		ct.seen[op] = map[int]bool{}
	}
	ct.seen[op][resp.StatusCode] = true
	if code := errorCode(body); code != "" {
		ct.codes[code] = true
	}
	if c.code != "" {
		assert.Equal(t, c.code, errorCode(body)+ofrepErrorCode(body), "%s: %s", c.name, body)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

func (ct *contract) request(t *testing.T, base, token string, c call) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.target, body)
	require.NoError(t, err)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	return req
}

// checkOutside checks an answer that no operation describes — a path
// without a route, a method a route does not serve — against the
// document's Error schema.
func (ct *contract) checkOutside(t *testing.T, base, token, method, target string, status int, code string) {
	t.Helper()
	req, err := http.NewRequest(method, base+target, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "%s %s: %s", method, target, body)
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	require.NoError(t, ct.doc.Components.Schemas["Error"].Value.VisitJSON(v), "%s %s: %s", method, target, body)
	assert.Equal(t, code, errorCode(body))
	ct.codes[code] = true
}

func errorCode(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

func ofrepErrorCode(body []byte) string {
	var e struct{ ErrorCode string }
	_ = json.Unmarshal(body, &e)
	return e.ErrorCode
}

// operations lists the document's operation ids with their documented
// statuses.
func (ct *contract) operations() map[string][]int {
	out := map[string][]int{}
	for _, item := range ct.doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err == nil {
					out[op.OperationID] = append(out[op.OperationID], n)
				}
			}
		}
	}
	return out
}

// acmeCalls are the requests on examples/acme: a success of every route
// and every error the request can cause. Instants are explicit, so the
// answers do not depend on the day the test runs.
func acmeCalls() []call {
	const at = "at=2026-04-25T12:00:00Z"
	ofrep := func(ctx string) string { return `{"context":` + ctx + `}` }
	return []call{
		{name: "metered decision with an override", method: "GET", target: "/v1/customers/cus_001/entitlements/api_calls?" + at, status: 200},
		{name: "unlimited plan", method: "GET", target: "/v1/customers/cus_003/entitlements/api_calls?" + at, status: 200},
		{name: "boolean decision through grants.all", method: "GET", target: "/v1/customers/cus_005/entitlements/sso?" + at, status: 200},
		{name: "plan and attributes from the query", method: "GET", target: "/v1/customers/new_user/entitlements/api_calls?" + at + "&plan=growth&attr.region=eu", status: 200},
		{name: "why not", method: "GET", target: "/v1/customers/cus_021/entitlements/api_calls?at=2026-05-01T00:00:00Z&explain=true", status: 200},
		{name: "decision now", method: "GET", target: "/v1/customers/cus_001/entitlements/seats", status: 200},
		{name: "bad at", method: "GET", target: "/v1/customers/cus_001/entitlements/api_calls?at=yesterday", status: 400, code: "INVALID_ARGUMENT"},
		{name: "at out of range", method: "GET", target: "/v1/customers/cus_001/entitlements/api_calls?at=0000-01-01T00:00:00Z", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad explain", method: "GET", target: "/v1/customers/cus_001/entitlements/api_calls?explain=maybe", status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "unknown plan", method: "GET", target: "/v1/customers/cus_001/entitlements/api_calls?plan=growht", status: 400, code: "UNKNOWN_PLAN"},
		{name: "unknown feature", method: "GET", target: "/v1/customers/cus_001/entitlements/nope", status: 404, code: "FEATURE_NOT_FOUND"},

		{name: "every feature", method: "GET", target: "/v1/customers/cus_001/entitlements?" + at, status: 200},
		{name: "every feature with why not", method: "GET", target: "/v1/customers/cus_021/entitlements?" + at + "&explain=true", status: 200},
		{name: "every feature, plan and attributes from the query", method: "GET", target: "/v1/customers/new_user/entitlements?" + at + "&plan=growth&attr.region=eu&attr.segment=smb", status: 200},
		{name: "every feature, bad at", method: "GET", target: "/v1/customers/cus_001/entitlements?at=2026-13-01", status: 400, code: "INVALID_ARGUMENT"},
		{name: "every feature, unknown plan", method: "GET", target: "/v1/customers/cus_001/entitlements?plan=nope", status: 400, code: "UNKNOWN_PLAN"},

		{name: "customer view", method: "GET", target: "/v1/customers/cus_021?at=2026-05-12T00:00:00Z", status: 200},
		{name: "customer view with grants.all", method: "GET", target: "/v1/customers/cus_005?" + at, status: 200},
		{name: "customer view, attributes from the query", method: "GET", target: "/v1/customers/cus_001?" + at + "&attr.region=apac", status: 200},
		{name: "customer view, bad at", method: "GET", target: "/v1/customers/cus_021?at=soon", status: 400, code: "INVALID_ARGUMENT"},
		{name: "customer view, unknown plan", method: "GET", target: "/v1/customers/cus_021?plan=nope", status: 400, code: "UNKNOWN_PLAN"},
		{name: "unknown customer", method: "GET", target: "/v1/customers/nobody", status: 404, code: "CUSTOMER_NOT_FOUND"},

		{name: "evaluate", method: "POST", target: "/v1/evaluate", status: 200,
			body: `{"queries":[{"customer":"cus_021","feature":"api_calls","at":"2026-03-20T00:00:00Z"},{"customer":"cus_001","feature":"nope"},{"customer":"cus_001","feature":"sso","plan":"nope"},{"customer":"x","feature":"seats","plan":"growth","attributes":{"region":"eu"},"explain":true}]}`},
		{name: "evaluate nothing", method: "POST", target: "/v1/evaluate", body: `{"queries":[]}`, status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "evaluate an unknown field", method: "POST", target: "/v1/evaluate", body: `{"queries":[{"customer":"a","feature":"sso","color":"red"}]}`, status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "evaluate a bad at", method: "POST", target: "/v1/evaluate", body: `{"queries":[{"customer":"a","feature":"sso","at":"soon"}]}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "evaluate too much", method: "POST", target: "/v1/evaluate", body: hugeEvaluate(), status: 413, code: "PAYLOAD_TOO_LARGE", invalid: true},

		{name: "features", method: "GET", target: "/v1/features", status: 200},
		{name: "plans", method: "GET", target: "/v1/plans", status: 200},

		{name: "promotions", method: "GET", target: "/v1/promotions?" + at, status: 200},
		{name: "promotions, bad at", method: "GET", target: "/v1/promotions?at=10000-01-01T00:00:00Z", status: 400, code: "INVALID_ARGUMENT"},
		{name: "a metered promotion", method: "GET", target: "/v1/promotions/spring-api-boost", status: 200},
		{name: "a promotion with grants.all", method: "GET", target: "/v1/promotions/sso-for-growth", status: 200},
		{name: "an unknown promotion", method: "GET", target: "/v1/promotions/nope", status: 404, code: "PROMOTION_NOT_FOUND"},
		{name: "who holds a promotion", method: "GET", target: "/v1/promotions/sso-for-growth/customers?state=granted&limit=2", status: 200},
		{name: "search who holds a promotion", method: "GET", target: "/v1/promotions/sso-for-growth/customers?search=lotus&" + at, status: 200},
		{name: "effective filter", method: "GET", target: "/v1/promotions/migration-burst/customers?effective=active&offset=1&" + at, status: 200},
		{name: "bad state", method: "GET", target: "/v1/promotions/sso-for-growth/customers?state=bad", status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "bad limit", method: "GET", target: "/v1/promotions/sso-for-growth/customers?limit=0", status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "customers of an unknown promotion", method: "GET", target: "/v1/promotions/nope/customers", status: 404, code: "PROMOTION_NOT_FOUND"},

		{name: "status", method: "GET", target: "/v1/status", status: 200},
		{name: "health", method: "GET", target: "/healthz", status: 200},
		{name: "ready", method: "GET", target: "/readyz", status: 200},
		{name: "metrics", method: "GET", target: "/metrics", status: 200},
		{name: "document", method: "GET", target: "/openapi.json", status: 200},

		{name: "consume", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":5,"idempotency_key":"contract-1"}`, status: 200},
		{name: "consume again: a duplicate", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":5,"idempotency_key":"contract-1"}`, status: 200},
		{name: "consume with plan and attributes", method: "POST", target: "/v1/usage/consume", body: `{"customer":"new_user","feature":"api_calls","amount":1,"idempotency_key":"contract-2","plan":"growth","attributes":{"region":"eu"}}`, status: 200},
		{name: "consume beyond the balance: denied", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":9007199254740991,"idempotency_key":"contract-3"}`, status: 200},
		{name: "consume reusing a key", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":6,"idempotency_key":"contract-1"}`, status: 409, code: "IDEMPOTENCY_KEY_REUSED"},
		{name: "consume at an instant", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":1,"idempotency_key":"k","at":"2026-04-25T12:00:00Z"}`, status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "consume nothing", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":0,"idempotency_key":"k"}`, status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "consume a boolean feature", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"sso","amount":1,"idempotency_key":"k"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "consume, unknown plan", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"api_calls","amount":1,"idempotency_key":"k","plan":"growht"}`, status: 400, code: "UNKNOWN_PLAN"},
		{name: "consume an unknown feature", method: "POST", target: "/v1/usage/consume", body: `{"customer":"cus_001","feature":"nope","amount":1,"idempotency_key":"k"}`, status: 404, code: "FEATURE_NOT_FOUND"},
		{name: "consume too much", method: "POST", target: "/v1/usage/consume", body: hugeEvaluate(), status: 413, code: "PAYLOAD_TOO_LARGE", invalid: true},
		{name: "check", method: "POST", target: "/v1/usage/check", body: `{"customer":"cus_001","feature":"api_calls","amount":5}`, status: 200},
		{name: "check a boolean feature", method: "POST", target: "/v1/usage/check", body: `{"customer":"cus_001","feature":"sso","amount":1}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "check an unknown feature", method: "POST", target: "/v1/usage/check", body: `{"customer":"cus_001","feature":"nope","amount":1}`, status: 404, code: "FEATURE_NOT_FOUND"},
		{name: "check too much", method: "POST", target: "/v1/usage/check", body: hugeEvaluate(), status: 413, code: "PAYLOAD_TOO_LARGE", invalid: true},
		{name: "release", method: "POST", target: "/v1/usage/release", body: `{"customer":"cus_001","feature":"api_calls","idempotency_key":"contract-1"}`, status: 200},
		{name: "release an unknown key", method: "POST", target: "/v1/usage/release", body: `{"customer":"cus_001","feature":"api_calls","idempotency_key":"nope"}`, status: 200},
		{name: "release without a key", method: "POST", target: "/v1/usage/release", body: `{"customer":"cus_001","feature":"api_calls","idempotency_key":""}`, status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "release too much", method: "POST", target: "/v1/usage/release", body: hugeEvaluate(), status: 413, code: "PAYLOAD_TOO_LARGE", invalid: true},
		{name: "batch", method: "POST", target: "/v1/usage/batch", status: 200,
			body: `{"ops":[{"op":"consume","customer":"cus_002","feature":"api_calls","amount":2,"idempotency_key":"b-1"},{"op":"check","customer":"cus_002","feature":"api_calls","amount":1},{"op":"release","customer":"cus_002","feature":"api_calls","idempotency_key":"b-1"},{"op":"consume","customer":"cus_002","feature":"nope","amount":1,"idempotency_key":"b-2"}]}`},
		{name: "batch of nothing", method: "POST", target: "/v1/usage/batch", body: `{"ops":[]}`, status: 400, code: "INVALID_ARGUMENT", invalid: true},
		{name: "batch too much", method: "POST", target: "/v1/usage/batch", body: hugeEvaluate(), status: 413, code: "PAYLOAD_TOO_LARGE", invalid: true},
		{name: "usage", method: "GET", target: "/v1/customers/cus_001/usage/api_calls", status: 200},
		{name: "usage in the past", method: "GET", target: "/v1/customers/cus_001/usage/api_calls?" + at, status: 200},
		{name: "usage, plan and attributes from the query", method: "GET", target: "/v1/customers/new_user/usage/api_calls?plan=growth&attr.region=eu", status: 200},
		{name: "usage, bad at", method: "GET", target: "/v1/customers/cus_001/usage/api_calls?at=soon", status: 400, code: "INVALID_ARGUMENT"},
		{name: "usage, unknown plan", method: "GET", target: "/v1/customers/cus_001/usage/api_calls?plan=nope", status: 400, code: "UNKNOWN_PLAN"},
		{name: "usage of an unknown feature", method: "GET", target: "/v1/customers/cus_001/usage/nope", status: 404, code: "FEATURE_NOT_FOUND"},

		{name: "OFREP boolean", method: "POST", target: "/ofrep/v1/evaluate/flags/sso", body: ofrep(`{"targetingKey":"cus_005"}`), status: 200},
		{name: "OFREP metered", method: "POST", target: "/ofrep/v1/evaluate/flags/api_calls", body: ofrep(`{"targetingKey":"cus_003","plan":"enterprise"}`), status: 200},
		{name: "OFREP without a targeting key", method: "POST", target: "/ofrep/v1/evaluate/flags/sso", body: ofrep(`{}`), status: 400, code: "TARGETING_KEY_MISSING"},
		{name: "OFREP unknown plan", method: "POST", target: "/ofrep/v1/evaluate/flags/sso", body: ofrep(`{"targetingKey":"a","plan":"nope"}`), status: 400, code: "INVALID_CONTEXT"},
		{name: "OFREP not JSON", method: "POST", target: "/ofrep/v1/evaluate/flags/sso", body: `{"context":`, status: 400, code: "PARSE_ERROR", invalid: true},
		{name: "OFREP unknown flag", method: "POST", target: "/ofrep/v1/evaluate/flags/nope", body: ofrep(`{"targetingKey":"cus_001"}`), status: 404, code: "FLAG_NOT_FOUND"},
		{name: "OFREP too much", method: "POST", target: "/ofrep/v1/evaluate/flags/sso", body: hugeEvaluate(), status: 413, code: "GENERAL", invalid: true},
		{name: "OFREP bulk", method: "POST", target: "/ofrep/v1/evaluate/flags", body: ofrep(`{"targetingKey":"cus_005"}`), status: 200},
		{name: "OFREP bulk without a targeting key", method: "POST", target: "/ofrep/v1/evaluate/flags", body: ofrep(`{"plan":"growth"}`), status: 400, code: "TARGETING_KEY_MISSING"},
		{name: "OFREP bulk too much", method: "POST", target: "/ofrep/v1/evaluate/flags", body: hugeEvaluate(), status: 413, code: "GENERAL", invalid: true},
	}
}

// hugeEvaluate is a body over the sidecar's 1 MiB limit.
func hugeEvaluate() string {
	return `{"queries":[{"customer":"` + strings.Repeat("a", 1<<20) + `","feature":"sso"}]}`
}

// The contract's validation is strict: an answer with a field the
// document does not name, or without one it requires, fails.
func TestOpenAPIContractRefusesUndocumentedAnswers(t *testing.T) {
	ct := newContract(t)
	decision := `{"customer":"c","feature":"sso","feature_type":"boolean","has_access":true,"valid_until":null,"sources":[],"at":"2026-01-01T00:00:00Z","revision":"r"}`
	tests := []struct {
		name, target, body string
		ok                 bool
	}{
		{"documented", "/v1/customers/c/entitlements/sso", decision, true},
		{"an extra field", "/v1/customers/c/entitlements/sso", strings.Replace(decision, `"revision":"r"`, `"revision":"r","extra":1`, 1), false},
		{"an extra field in a source", "/v1/customers/c/entitlements/sso", strings.Replace(decision, `"sources":[]`, `"sources":[{"kind":"plan","id":"p","colour":"red"}]`, 1), false},
		{"a missing field", "/v1/customers/c/entitlements/sso", strings.Replace(decision, `"revision":"r"`, `"revisions":"r"`, 1), false},
		{"a value outside its enum", "/v1/customers/c/entitlements/sso", strings.Replace(decision, `"boolean"`, `"maybe"`, 1), false},
		{"health", "/healthz", `{"status":"ok","uptime":3}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "http://127.0.0.1"+tt.target, nil)
			require.NoError(t, err)
			route, params, err := ct.router.FindRoute(req)
			require.NoError(t, err)
			opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
			err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
				Status:                 http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(tt.body)), Options: opts,
			})
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestOpenAPIContract(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real sidecars")
	}
	ct := newContract(t)
	bin := sidecartest.Build(t)
	const token = "contract-token"

	acme := t.TempDir()
	require.NoError(t, os.CopyFS(acme, os.DirFS("../../examples/acme")))
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	withToken := sidecartest.Start(t, bin, acme, "--token-file", tokenFile)

	// One success of each operation, replayed without the token and on a
	// sidecar that is not ready.
	first := map[string]call{}
	t.Run("examples/acme", func(t *testing.T) {
		for _, c := range acmeCalls() {
			ans := ct.do(t, withToken.URL, token, c)
			op := ct.operationOf(t, c)
			if _, ok := first[op]; !ok && c.status == http.StatusOK {
				first[op] = c
			}
			if c.target == "/openapi.json" {
				assert.JSONEq(t, string(server.OpenAPIDocument()), string(ans.body))
			}
		}
		bulk := ct.do(t, withToken.URL, token, first["ofrepEvaluateFlags"])
		etag := bulk.header.Get("ETag")
		require.NotEmpty(t, etag)
		notModified := first["ofrepEvaluateFlags"]
		notModified.name, notModified.status = "OFREP bulk, not modified", http.StatusNotModified
		notModified.header = map[string]string{"If-None-Match": etag}
		ct.do(t, withToken.URL, token, notModified)
		ct.checkOutside(t, withToken.URL, token, "GET", "/v1/nope", http.StatusNotFound, "NOT_FOUND")
		ct.checkOutside(t, withToken.URL, token, "DELETE", "/v1/status", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	})

	// The routes the document leaves open (security: []) answer without the
	// token; every other route documents 401 and answers it.
	t.Run("without the token", func(t *testing.T) {
		for op, statuses := range ct.operations() {
			c, ok := first[op]
			require.True(t, ok, "no success of %s to replay", op)
			protected := contains(statuses, http.StatusUnauthorized)
			require.Equal(t, !protected, ct.open(op), "%s: documents 401 exactly when it is not open (security: [])", op)
			if !protected {
				c.name = op + " without the token: an open route"
				ct.do(t, withToken.URL, "", c)
				continue
			}
			c.name, c.status, c.code = op+" without the token", http.StatusUnauthorized, "UNAUTHENTICATED"
			ct.do(t, withToken.URL, "", c)
			c.name, c.header = op+" with a wrong key", map[string]string{"X-API-Key": "wrong"}
			ct.do(t, withToken.URL, "", c)
		}
	})

	t.Run("not ready", func(t *testing.T) {
		broken := t.TempDir()
		require.NoError(t, os.CopyFS(broken, os.DirFS("../../examples/acme")))
		boost := filepath.Join(broken, "promotions", "spring-api-boost.yaml")
		raw, err := os.ReadFile(boost)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(boost, bytes.Replace(raw, []byte("allowance: 50000"), []byte("allowance: -1"), 1), 0o600))
		sc := sidecartest.StartUnready(t, bin, broken)
		require.Eventually(t, func() bool {
			var st struct {
				LastReload *struct{ OK bool } `json:"last_reload"`
			}
			return sc.GetJSON(t, "/v1/status", &st) == http.StatusOK && st.LastReload != nil
		}, time.Minute, 20*time.Millisecond, "the first load did not finish")
		for op, statuses := range ct.operations() {
			c := first[op]
			c.name = op + " before a good snapshot"
			if contains(statuses, http.StatusServiceUnavailable) {
				c.status, c.code = http.StatusServiceUnavailable, "NOT_READY"
				if strings.HasPrefix(op, "ofrep") {
					c.code = "GENERAL"
				}
			}
			ans := ct.do(t, sc.URL, "", c)
			if op == "getStatus" {
				var st struct {
					Ready      bool
					LastReload struct {
						ErrorCount int `json:"error_count"`
					} `json:"last_reload"`
				}
				require.NoError(t, json.Unmarshal(ans.body, &st))
				assert.False(t, st.Ready)
				assert.Equal(t, 1, st.LastReload.ErrorCount)
			}
		}
	})

	t.Run("usage off", func(t *testing.T) {
		sc := sidecartest.Start(t, bin, acme, "--usage-store", "off")
		for _, op := range []string{"usageConsume", "usageCheck", "usageRelease", "usageBatch", "getUsage"} {
			c := first[op]
			c.name, c.status, c.code = op+" with usage off", http.StatusNotImplemented, "USAGE_DISABLED"
			ct.do(t, sc.URL, "", c)
		}
		ct.do(t, sc.URL, "", call{name: "status with usage off", method: "GET", target: "/v1/status", status: http.StatusOK})
	})

	t.Run("usage store down, on_store_failure deny", func(t *testing.T) {
		strict := t.TempDir()
		require.NoError(t, os.CopyFS(strict, os.DirFS("../../examples/acme")))
		f := filepath.Join(strict, "features", "api_calls.yaml")
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(f, append(raw, []byte("usage:\n  on_store_failure: deny\n")...), 0o600))
		// Nothing listens on the port of a listener just closed.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		dead := ln.Addr().String()
		require.NoError(t, ln.Close())
		sc := sidecartest.Start(t, bin, strict, "--usage-store", "redis://"+dead)
		for _, op := range []string{"usageConsume", "usageCheck", "usageRelease", "getUsage"} {
			c := first[op]
			c.name, c.status, c.code = op+" while the store is down", http.StatusServiceUnavailable, "USAGE_STORE_UNAVAILABLE"
			ans := ct.do(t, sc.URL, "", c)
			assert.Equal(t, "1", ans.header.Get("Retry-After"))
		}
		ct.do(t, sc.URL, "", call{name: "status while the store is down", method: "GET", target: "/v1/status", status: http.StatusOK})
		c := first["usageBatch"]
		c.name = "a batch while the store is down: errors in the slots"
		ct.do(t, sc.URL, "", c)
	})

	t.Run("generated repo", func(t *testing.T) {
		repo := filepath.Join(t.TempDir(), "repo")
		out, err := exec.Command(bin, "gen", "--size", "tiny", "--seed", "7", "--out", repo).CombinedOutput() // #nosec G204 -- the binary the test built
		require.NoError(t, err, "%s", out)
		sc := sidecartest.Start(t, bin, repo)
		for _, c := range generatedCalls(t, ct, sc.URL) {
			ct.do(t, sc.URL, "", c)
		}
	})

	// Every documented status of every operation was answered, but 500
	// (a fault of the sidecar that no request can cause), and every error
	// code the document names but INTERNAL.
	for op, statuses := range ct.operations() {
		for _, status := range statuses {
			if status == http.StatusInternalServerError {
				continue
			}
			assert.True(t, ct.seen[op][status], "no answer of %s with status %d", op, status)
		}
	}
	for _, code := range serverErrorCodes(t) {
		if code != "INTERNAL" {
			assert.True(t, ct.codes[code], "no answer with error code %s", code)
		}
	}
	pairs := 0
	for _, statuses := range ct.seen {
		pairs += len(statuses)
	}
	t.Logf("%d answers validated: %d operations, %d (operation, status) pairs, %d error codes", ct.count, len(ct.seen), pairs, len(ct.codes))
}

// open reports whether the document lets anyone call operation op: its
// own security requirement is empty.
func (ct *contract) open(op string) bool {
	for _, item := range ct.doc.Paths.Map() {
		for _, o := range item.Operations() {
			if o.OperationID == op {
				return o.Security != nil && len(*o.Security) == 0
			}
		}
	}
	return false
}

func (ct *contract) operationOf(t *testing.T, c call) string {
	t.Helper()
	req := ct.request(t, "http://127.0.0.1", "", c)
	route, _, err := ct.router.FindRoute(req)
	require.NoError(t, err)
	return route.Operation.OperationID
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// generatedCalls asks a sidecar on a generated repo for its catalogue and
// promotions and builds a request of every route from what it lists.
func generatedCalls(t *testing.T, ct *contract, base string) []call {
	t.Helper()
	get := func(target string, v any) {
		ans := ct.do(t, base, "", call{name: "list " + target, method: "GET", target: target, status: 200})
		require.NoError(t, json.Unmarshal(ans.body, v))
	}
	var features struct{ Items []struct{ Key string } }
	get("/v1/features", &features)
	var plans struct{ Items []struct{ Key string } }
	get("/v1/plans", &plans)
	var promos struct{ Items []struct{ ID string } }
	get("/v1/promotions", &promos)
	require.NotEmpty(t, features.Items)
	require.NotEmpty(t, promos.Items)

	customers := []string{"cus_0000001", "cus_0000002", "cus_0000017", "cus_0000150"}
	var calls []call
	var queries []string
	for _, c := range customers {
		calls = append(calls,
			call{name: "customer view " + c, method: "GET", target: "/v1/customers/" + c, status: 200},
			call{name: "every feature of " + c, method: "GET", target: "/v1/customers/" + c + "/entitlements?explain=true", status: 200},
			call{name: "OFREP bulk " + c, method: "POST", target: "/ofrep/v1/evaluate/flags", body: `{"context":{"targetingKey":"` + c + `"}}`, status: 200},
		)
		for _, f := range features.Items {
			calls = append(calls,
				call{name: c + " " + f.Key, method: "GET", target: "/v1/customers/" + c + "/entitlements/" + url.PathEscape(f.Key) + "?explain=true", status: 200},
				call{name: "OFREP " + c + " " + f.Key, method: "POST", target: "/ofrep/v1/evaluate/flags/" + url.PathEscape(f.Key), body: `{"context":{"targetingKey":"` + c + `"}}`, status: 200})
			queries = append(queries, fmt.Sprintf(`{"customer":%q,"feature":%q,"explain":true}`, c, f.Key))
		}
		for _, p := range plans.Items {
			calls = append(calls, call{name: c + " on " + p.Key, method: "GET", target: "/v1/customers/" + c + "/entitlements?plan=" + url.QueryEscape(p.Key), status: 200})
		}
	}
	calls = append(calls, call{name: "evaluate", method: "POST", target: "/v1/evaluate", body: `{"queries":[` + strings.Join(queries, ",") + `]}`, status: 200})
	for i, p := range promos.Items {
		if i >= 12 {
			break
		}
		calls = append(calls,
			call{name: "promotion " + p.ID, method: "GET", target: "/v1/promotions/" + url.PathEscape(p.ID), status: 200},
			call{name: "customers of " + p.ID, method: "GET", target: "/v1/promotions/" + url.PathEscape(p.ID) + "/customers?limit=50&at=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339)), status: 200})
	}
	return calls
}
