package console

import (
	stdhtml "html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// text is an HTML fragment as a reader sees it: tags dropped, spaces collapsed.
func text(html string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(stdhtml.UnescapeString(tagRE.ReplaceAllString(html, " ")), " "))
}

// cells reads the cells marked data-col of the table row with this id.
func cells(t *testing.T, body, rowID string) map[string]string {
	t.Helper()
	row := regexp.MustCompile(`(?s)<tr id="` + regexp.QuoteMeta(rowID) + `">(.*?)</tr>`).FindStringSubmatch(body)
	require.NotNil(t, row, "row %s", rowID)
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)<td[^>]*data-col="([^"]+)"[^>]*>(.*?)</td>`).FindAllStringSubmatch(row[1], -1) {
		out[m[1]] = text(m[2])
	}
	return out
}

// The expectations below are worked out by hand from examples/acme (and
// testdata/audit-log-beta.yaml) at the tests' clock, 2026-04-25 12:00 UTC.

func TestPromotionsCountByEffectiveState(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/promotions")
	require.Equal(t, http.StatusOK, code)
	for id, want := range map[string]map[string]string{
		// cus_001 runs until 2026-05-04 (ending soon); cus_021's renewal starts 2026-05-11.
		"migration-burst": {"active": "1", "scheduled": "1", "expired": "0", "revoked": "0", "all": "", "ending_soon": "1"},
		// cus_006's 8 weeks from 2026-01-12 ran out on 2026-03-09; cus_023 starts 2026-05-04.
		"storage-unlimited-pilot": {"active": "1", "scheduled": "1", "expired": "1", "revoked": "0", "all": "", "ending_soon": ""},
		// grants.all is counted once, apart from the entries.
		"sso-for-growth": {"active": "1", "scheduled": "0", "expired": "0", "revoked": "1", "all": "active", "ending_soon": ""},
		// grants.all's 30 days ended before the deactivation: expired.
		"audit-log-preview": {"active": "0", "scheduled": "0", "expired": "1", "revoked": "1", "all": "expired", "ending_soon": ""},
		"spring-api-boost":  {"active": "4", "scheduled": "1", "expired": "0", "revoked": "1", "all": "", "ending_soon": ""},
		"audit-log-beta":    {"active": "2", "scheduled": "0", "expired": "0", "revoked": "7", "all": "", "ending_soon": ""},
	} {
		assert.Equal(t, want, cells(t, body, "promotion-"+id), id)
	}
	stats := text(regexp.MustCompile(`(?s)<ul class="stats"[^>]*>(.*?)</ul>`).FindStringSubmatch(body)[1])
	assert.Equal(t, "10 promotions 9 active 1 deactivated 9 applied 17 active grants 3 scheduled 2 expired 10 revoked 1 granted to all 1 ending within 14 days", stats)
}

func TestCustomersSectionShowsStoredAndEffectiveState(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/promotions/migration-burst")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, text(body), "Grants 1 active · 1 scheduled · 0 expired · 0 revoked · 1 ending within 14 days")
	assert.Equal(t, map[string]string{"state": "granted", "effective": "scheduled", "via": "own grant", "granted": "2026-05-11 09:00 2 periods",
		"ends": "2026-05-25 09:00 in 30 days", "revoked": ""}, cells(t, body, "customer-cus_021"))

	code, body = f.get(t, "/promotions/storage-unlimited-pilot")
	require.Equal(t, http.StatusOK, code)
	expired := cells(t, body, "customer-cus_006")
	assert.Equal(t, "granted", expired["state"])
	assert.Equal(t, "expired", expired["effective"])
	assert.Equal(t, "2026-03-09 09:00 47 days ago", expired["ends"], "an expired grant shows when it ended")
	row := regexp.MustCompile(`(?s)<tr id="customer-cus_006">.*?</tr>`).FindString(body)
	assert.Contains(t, row, `action="/promotions/storage-unlimited-pilot/grant"`, "an expired grant is renewed by Grant")
	assert.Contains(t, row, `aria-label="Grant"`)
	row = regexp.MustCompile(`(?s)<tr id="customer-cus_023">.*?</tr>`).FindString(body)
	assert.Contains(t, row, `aria-label="Revoke"`, "a scheduled grant can be revoked")
}

func TestManageAccessFiltersByEffectiveState(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		path      string
		rows, not []string
		want      []string
	}{
		"revoked holds expired": {"/promotions/storage-unlimited-pilot/access?state=revoked", []string{"cus_006"}, []string{"cus_012", "cus_023"},
			[]string{"all 1 matching", ">Grant</button>"}},
		"granted holds active and scheduled": {"/promotions/storage-unlimited-pilot/access?state=granted", []string{"cus_012", "cus_023"}, []string{"cus_006"},
			[]string{"all 2 matching", ">Revoke</button>"}},
		"via all": {"/promotions/sso-for-growth/access?state=granted&q=cus_00", []string{"cus_002", "cus_005", "cus_006", "cus_009"}, nil,
			[]string{"all 4 matching"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := f.get(t, tc.path)
			require.Equal(t, http.StatusOK, code)
			for _, id := range tc.rows {
				assert.Contains(t, body, `id="customer-`+id+`"`)
			}
			for _, id := range tc.not {
				assert.NotContains(t, body, `id="customer-`+id+`"`)
			}
			for _, w := range tc.want {
				assert.Contains(t, body, w)
			}
		})
	}
	_, body := f.get(t, "/promotions/storage-unlimited-pilot/access?state=revoked")
	assert.Regexp(t, `>Granted</a> <span class="count">2</span>`, body)
	assert.Regexp(t, `>Revoked</a> <span class="count">1</span>`, body)
	_, body = f.get(t, "/promotions/sso-for-growth/access?state=granted&q=cus_002")
	assert.Equal(t, "everyone eligible", cells(t, body, "customer-cus_002")["via"])
}

func TestBulkGrantInTheRevokedViewRenewsExpiredGrants(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/storage-unlimited-pilot/grant", url.Values{"blob": {f.blob(t, "promotions/storage-unlimited-pilot.yaml")},
		"from": {"access"}, "state": {"revoked"}, "all_matching": {"1"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "grant storage-unlimited-pilot: 1 customer (cus_006)\n"), commit.Message)
	content := f.fileOn(t, branch.Name, "promotions/storage-unlimited-pilot.yaml")
	assert.Contains(t, content, "    - id: cus_006\n      state: granted\n      granted_at: 2026-04-25T12:00:00Z\n      previous:\n        - {granted_at: 2026-01-12T09:00:00Z}\n")
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestAllMatchingIsRecomputedByEffectiveState(t *testing.T) {
	f := newFixture(t)
	// By stored state three customers are granted; by effective state the
	// Granted view holds two (cus_006 has expired).
	form := url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/storage-unlimited-pilot.yaml")}, "from": {"access"}, "state": {"granted"}, "all_matching": {"3"}}
	resp, body := f.post(t, "/promotions/storage-unlimited-pilot/revoke", form)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, body, "the selection was all 3 matching customers, and 2 match now")
	assert.Empty(t, f.branches(t))

	form.Set("all_matching", "2")
	resp, body = f.post(t, "/promotions/storage-unlimited-pilot/revoke", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	_, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "revoke storage-unlimited-pilot: 2 customers (cus_012, cus_023)\n"), commit.Message)
	f.untouched(t)
}

func TestCustomerPageIsTheCustomerShowView(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/customers/cus_021")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, map[string]string{"via": "own grant", "state": "granted", "effective": "scheduled", "eligible": "yes",
		"ends": "2026-05-25 09:00 in 30 days", "periods": "2026-03-16 12:00 → 2026-03-30 12:00 2026-05-11 09:00 → 2026-05-25 09:00"}, cells(t, body, "promotion-migration-burst"))
	assert.Equal(t, map[string]string{"via": "everyone eligible", "state": "revoked", "effective": "expired", "eligible": "yes",
		"ends": "2026-02-14 2 months ago", "periods": "2026-01-15 → 2026-02-14 revoked 2026-02-20 17:00"}, cells(t, body, "promotion-audit-log-preview"),
		"an expired grant shows when it ended")
	api := cells(t, body, "decision-api_calls")
	assert.Equal(t, "access", api["access"])
	assert.Equal(t, "10,000", api["allowance"])
	assert.Equal(t, "plan starter 10,000 monthly", api["sources"])
	assert.Equal(t, "migration-burst scheduled the customer's entry starts at 2026-05-11 09:00 "+
		"spring-api-boost not granted the customer has no entry and the promotion has no grant to everyone eligible", api["why-not"])
	assert.Equal(t, "apac-priority-support not eligible region us is not one of apac", cells(t, body, "decision-priority_support")["why-not"])
	assert.Equal(t, "audit-log-beta not granted the customer has no entry and the promotion has no grant to everyone eligible "+
		"audit-log-preview deactivated deactivated at 2026-02-20 17:00", cells(t, body, "decision-audit_log")["why-not"])

	// During the renewed period the override replaces the plan's quota.
	code, body = f.get(t, "/customers/cus_021?at=2026-05-12")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "Decisions at 2026-05-12 00:00:00 UTC")
	assert.Equal(t, "active", cells(t, body, "promotion-migration-burst")["effective"])
	api = cells(t, body, "decision-api_calls")
	assert.Equal(t, "20,000", api["allowance"])
	assert.Equal(t, "plan starter 10,000 monthly replaced by migration-burst "+
		"promotion migration-burst override 20,000 daily via customer, from 2026-05-11 09:00 until 2026-05-25 09:00", api["sources"])
	assert.Equal(t, "spring-api-boost not granted the customer has no entry and the promotion has no grant to everyone eligible", api["why-not"])
}

func TestAccessListFollowsTheClockAcrossPeriodEnds(t *testing.T) {
	now := testNow
	f := newFixture(t, func(o *Options) { o.Now = func() time.Time { return now } })
	_, body := f.get(t, "/promotions/migration-burst/access?state=granted")
	assert.Equal(t, "active", cells(t, body, "customer-cus_001")["effective"])

	// cus_001's 14 days end on 2026-05-04; the same commit, a day later.
	now = time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)
	_, body = f.get(t, "/promotions/migration-burst/access?state=granted")
	assert.NotContains(t, body, `id="customer-cus_001"`)
	_, body = f.get(t, "/promotions/migration-burst/access?state=revoked")
	assert.Equal(t, "expired", cells(t, body, "customer-cus_001")["effective"])

	// cus_021's renewal starts on 2026-05-11.
	now = time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	_, body = f.get(t, "/promotions/migration-burst/access?state=granted")
	assert.Equal(t, "active", cells(t, body, "customer-cus_021")["effective"])
}

// The customer page lists each metered decision's buckets in consumption
// order with their current periods, and the next reset (docs/rules.md,
// "Allowance buckets").
func TestCustomerPageListsBuckets(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/customers/cus_001")
	require.Equal(t, http.StatusOK, code)
	api := cells(t, body, "decision-api_calls")
	assert.Equal(t, "70,000", api["allowance"])
	assert.Equal(t, "mixed next 2026-04-26 00:00:00 UTC", api["reset"])
	assert.Equal(t, "promotion migration-burst 20,000 daily 2026-04-25 00:00:00 UTC → 2026-04-26 00:00:00 UTC "+
		"promotion spring-api-boost 50,000 monthly 2026-04-02 09:00:00 UTC → 2026-05-02 09:00:00 UTC", api["buckets"])
	assert.Equal(t, "plan starter 10 never always → no end", cells(t, body, "decision-storage_gb")["buckets"])
	assert.Empty(t, cells(t, body, "decision-sso")["buckets"], "a boolean feature has no buckets")
}
