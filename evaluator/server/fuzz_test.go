package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// knownStatus lists every status the API documents.
var knownStatus = map[int]bool{
	http.StatusOK: true, http.StatusNotModified: true, http.StatusBadRequest: true,
	http.StatusUnauthorized: true, http.StatusNotFound: true, http.StatusMethodNotAllowed: true,
	http.StatusRequestEntityTooLarge: true, http.StatusServiceUnavailable: true,
}

// FuzzRequests sends fuzzed path parameters, query strings, headers and
// bodies to the real handler on the example repo: every answer must have a
// documented status (never a 500), be JSON, and carry a JSON body unless it
// is a 304.
func FuzzRequests(f *testing.F) {
	seeds := []struct {
		route               uint8
		a, b, query, header string
		body                string
	}{
		{0, "cus_001", "api_calls", "at=2026-04-25T12:00:00Z", "", ""},
		{0, "new_user", "api_calls", "plan=growth&attr.region=eu&at=now", "", ""},
		{0, "cus_001", "nope", "at=yesterday", "", ""},
		{0, "..%2f..%2fetc", "%00", "attr.=x", "", ""},
		{0, "cüs_ø", "sso", "at=2026-13-45T99:00:00Z", "", ""},
		{1, "cus_005", "", "at=2026-04-01T00:00:00Z&plan=", "", ""},
		{2, "", "", "", "", `{"queries":[{"customer":"cus_021","feature":"api_calls","at":"2026-03-20T00:00:00Z"},{"customer":"cus_001","feature":"nope"}]}`},
		{2, "", "", "", "", `{"queries":[{"customer":"","feature":"","at":"x","attributes":{"a":1}}]}`},
		{2, "", "", "", "", `{"queries":null}`},
		{2, "", "", "", "", `{"queries":[` + strings.Repeat(`{"customer":"c","feature":"sso"},`, 3) + `{}]} trailing`},
		{3, "sso", "", "", "", `{"context":{"targetingKey":"cus_005"}}`},
		{3, "api_calls", "", "", "", `{"context":{"targetingKey":"cus_003","plan":7,"region":["eu"]}}`},
		{3, "sso", "", "", "", `{"context":{}}`},
		{3, "sso", "", "", "", `[1,2`},
		{4, "", "", "", `"x", W/"*"`, `{"context":{"targetingKey":"cus_005"}}`},
		{4, "", "", "", `*`, `{"context":"nope"}`},
		{5, "sso-for-growth", "", "search=lotus&state=granted&limit=2&offset=1", "", ""},
		{5, "sso-for-growth", "", "limit=-1&offset=99999999999999999999", "", ""},
		{5, "nope", "", "state=sideways", "", ""},
		{6, "/v1/promotions/%2e%2e", "", "", "", ""},
		{6, "/ofrep/v1/evaluate/flags/sso", "DELETE", "", "", ""},
		{6, "/v1/status", "", "", "", ""},
		{6, "/nope", "PUT", "", "", "{}"},
	}
	for _, s := range seeds {
		f.Add(s.route, s.a, s.b, s.query, s.header, []byte(s.body))
	}
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, a, b, query, header string, body []byte) {
		req, ok := fuzzRequest(route, a, b, query, header, body)
		if !ok {
			return // not a request net/http would hand to a handler
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if !knownStatus[rec.Code] {
			t.Fatalf("%s %s: status %d\n%s", req.Method, req.URL, rec.Code, rec.Body.Bytes())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", req.Method, req.URL, ct)
		}
		if rec.Code == http.StatusNotModified {
			return
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: status %d with a body that is not JSON: %q", req.Method, req.URL, rec.Code, rec.Body.Bytes())
		}
		if rec.Code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
			t.Fatalf("%s %s: 405 without Allow", req.Method, req.URL)
		}
	})
}

func newFuzzServer(tb testing.TB) *Server {
	tb.Helper()
	root := tb.TempDir()
	if err := os.CopyFS(root, os.DirFS("../../examples/acme")); err != nil {
		tb.Fatal(err)
	}
	st := store.New(repo.NewLoader(root, promotions.Limits{}, nil), nil)
	if st.Reload(context.Background()) != store.Swapped {
		tb.Fatal("the example repo does not load")
	}
	return New(Config{Source: st, Now: func() time.Time { return clock }, MaxBodyBytes: 4 << 10})
}

var fuzzMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"}

// fuzzRequest builds the request of one route from fuzzed parts. Path
// parameters are escaped the way a client library would; raw paths (route
// 6) are taken as sent, as long as net/http would accept the request line.
func fuzzRequest(route uint8, a, b, query, header string, body []byte) (*http.Request, bool) {
	method, target := "GET", ""
	switch route % 7 {
	case 0:
		target = "/v1/customers/" + url.PathEscape(a) + "/entitlements/" + url.PathEscape(b)
	case 1:
		target = "/v1/customers/" + url.PathEscape(a) + "/entitlements"
	case 2:
		method, target = "POST", "/v1/evaluate"
	case 3:
		method, target = "POST", "/ofrep/v1/evaluate/flags/"+url.PathEscape(a)
	case 4:
		method, target = "POST", "/ofrep/v1/evaluate/flags"
	case 5:
		target = "/v1/promotions/" + url.PathEscape(a) + "/customers"
	default:
		method, target = fuzzMethods[len(b)%len(fuzzMethods)], a
		if strings.HasPrefix(strings.TrimLeft(target, "/"), "metrics") {
			return nil, false // Prometheus text, not JSON
		}
	}
	if query != "" {
		target += "?" + query
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \t\r\n") {
		return nil, false
	}
	req := &http.Request{
		Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "example.com",
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	req = req.WithContext(context.Background())
	if header != "" {
		req.Header.Set("If-None-Match", header)
		req.Header.Set("Content-Type", "application/json; charset="+header)
	}
	return req, true
}
