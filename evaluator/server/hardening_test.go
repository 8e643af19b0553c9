package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// assertJSONError checks the shape every error answer has: a documented
// status, JSON content, {"error":{"code","message"}}.
func assertJSONError(t *testing.T, r response, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.code, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &body), "body: %s", r.body)
	assert.Equal(t, code, body.Error.Code)
	assert.NotEmpty(t, body.Error.Message)
}

// Hostile requests are answered with JSON errors, never a 500.
func TestHostileRequests(t *testing.T) {
	f := newFixture(t, "")
	tooMany := `{"queries":[` + strings.Repeat(`{"customer":"cus_001","feature":"sso"},`, MaxEvaluateQueries) + `{"customer":"cus_001","feature":"sso"}]}`
	oversized := `{"queries":[{"customer":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `","feature":"sso"}]}`
	tests := []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"at after 9999 in UTC", "GET", "/v1/customers/cus_001/entitlements/sso?at=9999-12-31T23:30:00-01:00", "", 400, "INVALID_ARGUMENT"},
		{"evaluate: at after 9999 in UTC", "POST", "/v1/evaluate", `{"queries":[{"customer":"cus_001","feature":"sso","at":"9999-12-31T23:30:00-01:00"}]}`, 400, "INVALID_ARGUMENT"},
		{"at in year 0", "GET", "/v1/customers/cus_001/entitlements/sso?at=0000-06-01T00:00:00Z", "", 400, "INVALID_ARGUMENT"},
		{"evaluate: not JSON", "POST", "/v1/evaluate", `{"queries":[`, 400, "INVALID_ARGUMENT"},
		{"evaluate: wrong JSON type", "POST", "/v1/evaluate", `{"queries":"all"}`, 400, "INVALID_ARGUMENT"},
		{"evaluate: two JSON values", "POST", "/v1/evaluate", `{"queries":[]} {"queries":[]}`, 400, "INVALID_ARGUMENT"},
		{"evaluate: binary body", "POST", "/v1/evaluate", "\x00\xff\xfe{", 400, "INVALID_ARGUMENT"},
		{"evaluate: too many queries", "POST", "/v1/evaluate", tooMany, 400, "INVALID_ARGUMENT"},
		{"evaluate: body over 1 MiB", "POST", "/v1/evaluate", oversized, 413, "PAYLOAD_TOO_LARGE"},
		{"bad at: not a time", "GET", "/v1/customers/cus_001/entitlements/sso?at=yesterday", "", 400, "INVALID_ARGUMENT"},
		{"bad at: month 13", "GET", "/v1/customers/cus_001/entitlements/sso?at=2026-13-01T00:00:00Z", "", 400, "INVALID_ARGUMENT"},
		{"bad at: no zone", "GET", "/v1/customers/cus_001/entitlements?at=2026-04-01T00:00:00", "", 400, "INVALID_ARGUMENT"},
		{"bad at in a batch slot", "POST", "/v1/evaluate", `{"queries":[{"customer":"cus_001","feature":"sso","at":"soon"}]}`, 400, "INVALID_ARGUMENT"},
		{"attr without a name", "GET", "/v1/customers/cus_001/entitlements/sso?attr.=eu", "", 400, "INVALID_ARGUMENT"},
		{"customer id over 256 characters", "GET", "/v1/customers/" + strings.Repeat("c", 257) + "/entitlements/sso", "", 400, "INVALID_ARGUMENT"},
		{"path traversal as a feature", "GET", "/v1/customers/cus_001/entitlements/..%2f..%2fetc%2fpasswd", "", 404, "FEATURE_NOT_FOUND"},
		{"path traversal as a promotion", "GET", "/v1/promotions/..%2f..%2fpromotions%2fsso-for-growth", "", 404, "PROMOTION_NOT_FOUND"},
		{"dot-dot segments are not resolved", "GET", "/v1/promotions/../../etc/passwd", "", 404, "NOT_FOUND"},
		{"dot segments are not resolved", "GET", "/v1/./status", "", 404, "NOT_FOUND"},
		{"repeated slashes are not resolved", "GET", "//v1//status", "", 404, "NOT_FOUND"},
		{"dot-dot out of a POST route", "POST", "/ofrep/v1/evaluate/flags/../flags", `{}`, 404, "NOT_FOUND"},
		{"unicode feature", "GET", "/v1/customers/cus_001/entitlements/%E2%9C%93", "", 404, "FEATURE_NOT_FOUND"},
		{"NUL in a promotion id", "GET", "/v1/promotions/a%00b/customers", "", 404, "PROMOTION_NOT_FOUND"},
		{"unknown route", "GET", "/v2/anything", "", 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertJSONError(t, f.do(t, tt.method, tt.target, tt.body), tt.status, tt.code)
		})
	}
}

// OFREP routes answer in OFREP's error shape, 413 included.
func TestHostileOFREPRequests(t *testing.T) {
	f := newFixture(t, "")
	huge := `{"context":{"targetingKey":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}}`
	tests := []struct {
		name, target, body string
		status             int
		code               string
	}{
		{"single: body over 1 MiB", "/ofrep/v1/evaluate/flags/sso", huge, 413, "GENERAL"},
		{"bulk: body over 1 MiB", "/ofrep/v1/evaluate/flags", huge, 413, "GENERAL"},
		{"single: not JSON", "/ofrep/v1/evaluate/flags/sso", `{"context":`, 400, "PARSE_ERROR"},
		{"bulk: not JSON", "/ofrep/v1/evaluate/flags", "\x00\x01", 400, "PARSE_ERROR"},
		{"context not an object", "/ofrep/v1/evaluate/flags/sso", `{"context":[1]}`, 400, "INVALID_CONTEXT"},
		{"targetingKey a number", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":7}}`, 400, "INVALID_CONTEXT"},
		{"targetingKey over 256 characters", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"` + strings.Repeat("k", 257) + `"}}`, 400, "INVALID_CONTEXT"},
		{"no targetingKey", "/ofrep/v1/evaluate/flags/sso", `{"context":{}}`, 400, "TARGETING_KEY_MISSING"},
		{"unicode flag", "/ofrep/v1/evaluate/flags/%E2%9C%93", `{"context":{"targetingKey":"cus_001"}}`, 404, "FLAG_NOT_FOUND"},
		{"traversal flag", "/ofrep/v1/evaluate/flags/..%2fstatus", `{"context":{"targetingKey":"cus_001"}}`, 404, "FLAG_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "POST", tt.target, tt.body)
			require.Equal(t, tt.status, r.code, "body: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, tt.code, r.json(t)["errorCode"], "body: %s", r.body)
		})
	}
}

// Unicode and traversal-looking customer ids are ids like any other: the
// answer names them and reads nothing but the snapshot.
func TestOddCustomerIDsAreJustIDs(t *testing.T) {
	f := newFixture(t, "")
	for _, id := range []string{"../../etc/passwd", "cüstömer-ø", "日本語", "a/b", "%00"} {
		t.Run(id, func(t *testing.T) {
			r := f.do(t, "GET", "/v1/customers/"+pathEscape(id)+"/entitlements/sso?at=2026-04-01T00:00:00Z", "")
			require.Equal(t, http.StatusOK, r.code, "body: %s", r.body)
			body := r.json(t)
			assert.Equal(t, id, body["customer"])
			assert.Equal(t, false, body["has_access"])
		})
	}
}

func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Every route answers every other method with 405, an Allow header and a
// JSON error.
func TestEveryRouteRefusesOtherMethods(t *testing.T) {
	f := newFixture(t, "")
	routes := map[string]string{
		"/v1/customers/cus_001/entitlements/sso":  "GET, HEAD",
		"/v1/customers/cus_001/entitlements":      "GET, HEAD",
		"/v1/evaluate":                            "POST",
		"/v1/promotions":                          "GET, HEAD",
		"/v1/promotions/sso-for-growth":           "GET, HEAD",
		"/v1/promotions/sso-for-growth/customers": "GET, HEAD",
		"/v1/status":                              "GET, HEAD",
		"/ofrep/v1/evaluate/flags/sso":            "POST",
		"/ofrep/v1/evaluate/flags":                "POST",
		"/healthz":                                "GET, HEAD",
		"/readyz":                                 "GET, HEAD",
		"/metrics":                                "GET, HEAD",
	}
	for target, allow := range routes {
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
			if strings.Contains(allow, method) {
				continue
			}
			t.Run(method+" "+target, func(t *testing.T) {
				r := f.do(t, method, target, "")
				assertJSONError(t, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
				assert.Equal(t, allow, r.header.Get("Allow"))
			})
		}
	}
}

// With a token, every /v1 and /ofrep route answers the same 401 to every
// wrong way of presenting it; the open routes stay open.
func TestUnauthenticatedShapes(t *testing.T) {
	const token = "s3cret-token"
	f := newFixture(t, token)
	headers := map[string][]string{
		"no header":             nil,
		"wrong bearer":          {"Authorization", "Bearer wrong"},
		"token as a prefix":     {"Authorization", "Bearer " + token + "x"},
		"prefix of the token":   {"Authorization", "Bearer " + token[:5]},
		"basic scheme":          {"Authorization", "Basic " + token},
		"bearer without token":  {"Authorization", "Bearer "},
		"wrong api key":         {"X-API-Key", "wrong"},
		"token in the query":    nil,
		"empty authorization":   {"Authorization", ""},
		"bad header, good key":  {"Authorization", "Bearer wrong", "X-API-Key", token},
		"unicode bearer":        {"Authorization", "Bearer ✓"},
		"token with extra part": {"Authorization", "Bearer " + token + " " + token},
	}
	targets := []struct{ method, target, body string }{
		{"GET", "/v1/customers/cus_001/entitlements/sso?token=" + token, ""},
		{"GET", "/v1/customers/cus_001/entitlements", ""},
		{"POST", "/v1/evaluate", `{"queries":[]}`},
		{"GET", "/v1/promotions", ""},
		{"GET", "/v1/promotions/sso-for-growth", ""},
		{"GET", "/v1/promotions/sso-for-growth/customers", ""},
		{"GET", "/v1/status", ""},
		{"POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"cus_001"}}`},
		{"POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"cus_001"}}`},
		{"DELETE", "/v1/status", ""}, // even a 405 needs the token first
	}
	for name, header := range headers {
		for _, tt := range targets {
			t.Run(name+" "+tt.method+" "+tt.target, func(t *testing.T) {
				r := f.do(t, tt.method, tt.target, tt.body, header...)
				assertJSONError(t, r, http.StatusUnauthorized, "UNAUTHENTICATED")
				assert.Equal(t, `Bearer realm="promoctl"`, r.header.Get("WWW-Authenticate"))
				assert.NotContains(t, string(r.body), token)
			})
		}
	}
	for _, open := range []string{"/healthz", "/readyz", "/metrics"} {
		assert.Equal(t, http.StatusOK, f.do(t, "GET", open, "").code, open)
	}
	assert.Equal(t, http.StatusOK, f.do(t, "GET", "/v1/status", "", "X-API-Key", token).code)
	assert.Equal(t, http.StatusOK, f.do(t, "GET", "/v1/status", "", "Authorization", "bearer "+token).code)
}

// rawConn serves srv on a free loopback port and opens a TCP connection to
// it, for tests that must write bytes no HTTP client would.
func rawConn(t *testing.T, srv *http.Server) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// The sidecar's http.Server cuts off a client that sends its headers
// slower than ReadHeaderTimeout (slowloris), and keeps serving others.
func TestSlowHeadersAreCutOff(t *testing.T) {
	f := newFixture(t, "")
	srv := HTTPServer("127.0.0.1:0", f.srv, nil)
	require.Equal(t, 5*time.Second, srv.ReadHeaderTimeout, "the production setting")
	// The same server with the timeout shortened, so that the test is quick.
	srv.ReadHeaderTimeout = 300 * time.Millisecond
	conn := rawConn(t, srv)
	// 400 header bytes, one every 50 ms: 20 s if the server waited.
	header := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 400) + "\r\n\r\n"
	sent := 0
	cut := make(chan error, 1)
	go func() {
		// The server closes the connection (possibly after a 408): the
		// read ends with EOF or a reset.
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, err := io.Copy(io.Discard, conn)
		cut <- err
	}()
	var readErr error
	closed := false
sending:
	for sent < len(header) {
		select {
		case readErr = <-cut:
			closed = true
			break sending
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{header[sent]}); err != nil {
			break // the server closed its end
		}
		sent++
	}
	if !closed {
		readErr = <-cut
	}
	var netErr net.Error
	require.False(t, errors.As(readErr, &netErr) && netErr.Timeout(), "the server did not close the connection")
	assert.Less(t, sent, len(header), "the server waited for every byte of the slow header")

	// A normal client is still served.
	resp, err := http.Get("http://" + conn.RemoteAddr().String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// A header block over MaxHeaderBytes is refused by net/http with 431
// before any handler runs.
func TestHugeHeadersAreRefused(t *testing.T) {
	f := newFixture(t, "")
	srv := HTTPServer("127.0.0.1:0", f.srv, nil)
	conn := rawConn(t, srv)
	_, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 256<<10))
	if err == nil {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	}
}

// Neither the token nor any config content reaches the logs: not on
// requests (good or bad token), not on a reload that fails on a file
// holding a secret-looking value.
func TestLogsHoldNoTokenNorConfig(t *testing.T) {
	const token = "tok-5f1d9c2e-never-log-me"
	const secret = "config-value-never-log-me"
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS("../../examples/acme")))
	st := store.New(repo.NewLoader(root, promotions.Limits{}, log), log)
	require.Equal(t, store.Swapped, st.Reload(context.Background()))
	srv := New(Config{Source: st, Token: token, Log: log, Now: func() time.Time { return clock }})
	f := &fixture{srv: srv, store: st, root: root}

	f.do(t, "GET", "/v1/customers/cus_001/entitlements/sso", "", "Authorization", "Bearer "+token)
	f.do(t, "GET", "/v1/customers/cus_001/entitlements/sso", "", "Authorization", "Bearer "+token+"-wrong")
	f.do(t, "POST", "/v1/evaluate", `{"queries":[{"customer":"`+secret+`","feature":"sso"}]}`, "X-API-Key", token)
	f.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"`+secret+`"}}`, "X-API-Key", "x"+token)

	// A broken edit whose offending value is the secret, then a file that
	// is not YAML at all and quotes it too.
	boost := filepath.Join(root, "promotions", "spring-api-boost.yaml")
	src, err := os.ReadFile(boost)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(boost, bytes.Replace(src, []byte("mode: additive"), []byte("mode: "+secret), 1), 0o644))
	require.Equal(t, store.Failed, st.Reload(context.Background()))
	require.NoError(t, os.WriteFile(filepath.Join(root, "features", "junk.yaml"), []byte("key: ["+secret+"\n"), 0o644))
	require.Equal(t, store.Failed, st.Reload(context.Background()))
	require.NoError(t, os.WriteFile(boost, src, 0o644))
	require.NoError(t, os.Remove(filepath.Join(root, "features", "junk.yaml")))
	require.Equal(t, store.Swapped, st.Reload(context.Background()))

	out := logs.String()
	require.Contains(t, out, "reload failed", "the failed reloads were logged")
	assert.NotContains(t, out, token)
	assert.NotContains(t, out, secret)
	// The status API may show the errors (it is behind the token); the
	// log names only where they are.
	assert.Contains(t, out, "promotions/spring-api-boost.yaml")
}
