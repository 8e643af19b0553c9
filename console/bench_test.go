package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// bulkCustomers is the size of the bulk action measured: "all N matching"
// on 10,000 customers must be committed in < 15 s on M.
const bulkCustomers = 10_000

// BenchmarkConsole measures the console's server time on the generated M
// repo (1k promotions, 100k customers): every page, and a bulk revoke of
// all 10,000 matching customers of one promotion, committed. The first
// compile of a commit is not counted (pages are compiled once per commit).
func BenchmarkConsole(b *testing.B) {
	if sizes := os.Getenv("PROMOCTL_BENCH_SIZES"); sizes != "" && !strings.Contains(","+sizes+",", ",M,") {
		b.Skip("M is not among PROMOCTL_BENCH_SIZES")
	}
	src, err := repogen.Cached("", "M", 1)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	if err != nil || !res.OK() {
		b.Fatalf("load M: %v %v", err, res.Diagnostics.Errors())
	}
	m := res.Model
	ids := m.CustomerIDs()[:bulkCustomers]
	var bulk strings.Builder
	bulk.WriteString("kind: PromotionalEntitlement\nid: bench-bulk\nname: Bulk\nstatus: active\nfeature: " + repogen.HotFeature + "\n")
	fmt.Fprintf(&bulk, "feature_type: %s\nis_applied: true\n", m.Features[repogen.HotFeature].Type)
	if m.Features[repogen.HotFeature].Type == "metered" {
		bulk.WriteString("metered:\n  mode: additive\n  allowance: 10\n  reset: monthly\n")
	}
	bulk.WriteString("grants:\n  customers:\n")
	for _, id := range ids {
		fmt.Fprintf(&bulk, "    - id: %s\n      state: granted\n      granted_at: 2026-01-01T00:00:00Z\n", id)
	}
	if err := os.WriteFile(filepath.Join(dir, "promotions", "bench-bulk.yaml"), []byte(bulk.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	// The largest promotion and a customer with many promotions for the pages.
	var big, customer string
	for _, p := range m.SortedPromotions() {
		if big == "" || len(p.Grants.Customers) > len(m.Promotions[big].Grants.Customers) {
			big = p.ID
		}
	}
	customer = m.Promotions[big].Grants.Customers[0].ID
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "M"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	srv, err := New(Options{Repo: dir, Author: testAuthor, Now: func() time.Time { return repogen.HotAt }})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	get := func(path string) *httptest.ResponseRecorder {
		return serve(httptest.NewRequest(http.MethodGet, path, nil))
	}
	start := time.Now()
	if rec := get("/promotions"); rec.Code != http.StatusOK {
		b.Fatalf("warm up: %d %s", rec.Code, rec.Body)
	}
	b.Logf("first compile of M: %s; largest promotion %s (%d entries)", time.Since(start), big, len(m.Promotions[big].Grants.Customers))

	pages := []struct{ name, path string }{
		{"promotions", "/promotions"},
		{"promotions-search", "/promotions?q=" + big[:4] + "&status=active"},
		{"create", "/promotions/new"},
		{"details", "/promotions/" + big},
		{"access-granted", "/promotions/" + big + "/access?state=granted"},
		{"access-search", "/promotions/" + big + "/access?state=revoked&q=" + customer[len(customer)-3:]},
		{"access-page-20", "/promotions/bench-bulk/access?state=granted&page=20"},
		{"grant-search", "/promotions/" + big + "?gq=" + customer},
		{"customer", "/customers/" + customer},
		{"changes", "/changes"},
	}
	for _, pg := range pages {
		// Per-commit derived lists are built on first use: the first view is
		// reported apart (first-ms), the loop measures repeat views.
		firstStart := time.Now()
		get(pg.path)
		first := time.Since(firstStart)
		b.Run("M/page="+pg.name, func(b *testing.B) {
			for b.Loop() {
				if rec := get(pg.path); rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, rec.Code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
		})
	}

	blob, err := srv.git.BlobHash(mustTip(b, srv), "promotions/bench-bulk.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("M/bulk-revoke-%d", bulkCustomers), func(b *testing.B) {
		for b.Loop() {
			form := url.Values{"confirmed": {"1"}, "blob": {blob}, "from": {"access"}, "state": {"granted"}, "all_matching": {fmt.Sprint(bulkCustomers)}}
			req := httptest.NewRequest(http.MethodPost, "/promotions/bench-bulk/revoke", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if rec := serve(req); rec.Code != http.StatusSeeOther {
				b.Fatalf("bulk revoke: %d %s", rec.Code, rec.Body)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "commit-s")
	})
}

func mustTip(b *testing.B, s *Server) plumbing.Hash {
	t, err := s.git.Tip(s.base)
	if err != nil {
		b.Fatal(err)
	}
	return t
}
