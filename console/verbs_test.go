package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGrantStartsAtTheChosenTime(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")},
		"customer": {"cus_002"}, "starts": {"date"}, "starts_at": {"2026-05-04 09:00"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, _ := f.onlyBranch(t)
	assert.Contains(t, f.fileOn(t, branch.Name, "promotions/spring-api-boost.yaml"), "    - id: cus_002\n      state: granted\n      granted_at: 2026-05-04T09:00:00Z\n")
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestGrantFormsSayWhenTheGrantStarts(t *testing.T) {
	f := newFixture(t)
	_, page := f.get(t, "/promotions/spring-api-boost?gq=fjord")
	assert.Equal(t, 2, strings.Count(page, ">Grant starts</label>"), "both grant forms of the panel")
	assert.Contains(t, page, "The grant starts then even if the branch is merged later")
	_, page = f.get(t, "/promotions/audit-log-beta/access?state=revoked")
	assert.Contains(t, page, ">Grant starts</label>")
	// Before the window opens, the earliest start is proposed.
	_, page = f.get(t, "/promotions/summer-storage-bonus")
	assert.Contains(t, page, `value="2026-06-01 00:00"`)
}

func TestGrantStartRefusals(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		startsAt string
		want     string
	}{
		"not a date":        {"next week", `"next week" is not a date: enter when the grant starts as a date (2026-05-01) or a date and time in UTC (2026-05-01 09:00).`},
		"empty":             {"", "Enter when the grant starts, or choose Now."},
		"after the window":  {"2026-07-01", "The grant would start on 2026-07-01, but the promotion's window closes on 2026-06-01: choose an earlier start."},
		"before the window": {"2026-02-01", "The grant would start on 2026-02-01, before the promotion's window opens on 2026-03-01: choose a start on or after 2026-03-01."},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")},
				"customer": {"cus_002"}, "starts": {"date"}, "starts_at": {tc.startsAt}})
			assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
			assert.Contains(t, body, htmlText(tc.want))
			assert.Contains(t, body, `href="/promotions/spring-api-boost">Back to Spring API boost</a>`, "returns to where it came from")
			assert.Empty(t, f.branches(t))
		})
	}
}

// htmlText is s as html/template escapes text.
func htmlText(s string) string {
	return strings.NewReplacer(`"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestNoGrantOnceTheWindowClosed(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Now = func() time.Time { return time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC) } })
	_, page := f.get(t, "/promotions/spring-api-boost")
	assert.Contains(t, page, "The promotion&#39;s window closed on 2026-06-01: nobody can be granted it any more.")
	assert.NotContains(t, page, "Grant to all eligible")
	assert.NotContains(t, page, `aria-label="Grant"`, "no row offers Grant")
	assert.Contains(t, page, "(closed on 2026-06-01)")
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "customer": {"cus_002"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, body, "window closed on 2026-06-01")
	assert.Empty(t, f.branches(t))
}

func TestGrantPickerMarksIneligibleCustomers(t *testing.T) {
	f := newFixture(t)
	// sso-for-growth is for plan growth: cus_001 (starter) is not eligible.
	_, page := f.get(t, "/promotions/sso-for-growth?gq=cus_00")
	assert.Contains(t, page, `aria-label="cus_001" disabled aria-describedby="why-cus_001"`)
	assert.Contains(t, page, `<span class="sub why" id="why-cus_001">not eligible: plan starter is not one of growth</span>`)
	resp, body := f.post(t, "/promotions/sso-for-growth/grant", url.Values{"blob": {f.blob(t, "promotions/sso-for-growth.yaml")}, "customer": {"cus_001"}})
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, body, "cus_001 (Brightwater Analytics) is not eligible: plan starter is not one of growth.")
	assert.NotContains(t, body, "not_eligible")
}

func TestRevokeAsksForConfirmation(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "customer": {"cus_001"}}
	resp, body := f.post(t, "/promotions/spring-api-boost/revoke", form)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, "<h1 id=\"confirm-h\">Revoke Spring API boost?</h1>")
	assert.Contains(t, body, "<li><strong>cus_001</strong> · Brightwater Analytics</li>", "says what will be revoked")
	assert.Contains(t, body, `<input type="hidden" name="confirmed" value="1">`)
	assert.Contains(t, body, `<input type="hidden" name="customer" value="cus_001">`)
	assert.Contains(t, body, `<a class="button" href="/promotions/spring-api-boost">Cancel</a>`)
	assert.Empty(t, f.branches(t), "the first step commits nothing")

	form.Set("confirmed", "1")
	resp, body = f.post(t, "/promotions/spring-api-boost/revoke", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	_, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "revoke spring-api-boost: 1 customer (cus_001)\n"), commit.Message)
	f.untouched(t)
}

func TestDeactivateAsksForConfirmation(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/migration-burst/deactivate", url.Values{"blob": {f.blob(t, "promotions/migration-burst.yaml")}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, "Deactivate Migration burst quota?")
	assert.Contains(t, body, "ends every grant still running or scheduled (2 customers) at the moment of the commit")
	assert.Empty(t, f.branches(t))
}

func TestOnABranchTheChangeGoesThereOrToANewBranch(t *testing.T) {
	f := newFixture(t)
	// A first commit makes a console branch that changes the promotion.
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "customer": {"cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, _ := f.onlyBranch(t)

	_, page := f.get(t, link("/promotions/spring-api-boost", "branch", branch.Name))
	assert.Contains(t, page, "<legend>Where the change goes</legend>")
	assert.Contains(t, page, `<input type="radio" name="target" value="`+branch.Name+`" checked> this branch: <span class="branch-name">`+branch.Name+`</span>`)
	assert.NotContains(t, page, "a new branch from main", "the file differs on main: only this branch can take the change")
	assert.Contains(t, page, "The promotion differs on main, so the change can only go to this branch.")
	assert.NotContains(t, page, "Commit to", "no other target select")

	// A promotion the branch does not change may go either way.
	_, page = f.get(t, link("/promotions/migration-burst", "branch", branch.Name))
	assert.Contains(t, page, `<input type="radio" name="target" value=""> a new branch from main`)

	// On main, the one destination is said, not chosen.
	_, page = f.get(t, "/promotions/migration-burst")
	assert.Contains(t, page, "Goes to a new branch from <strong>main</strong>, checked against main.")
}

func TestConflictNamesWhatMoved(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "customer": {"cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, _ := f.onlyBranch(t)
	stale := f.blob(t, "promotions/spring-api-boost.yaml") // main's: the branch has moved on

	for name, tc := range map[string]struct {
		target string
		want   string
	}{
		"the file on this branch": {branch.Name, "The file promotions/spring-api-boost.yaml changed on this branch (" + branch.Name + ") since this form was opened"},
		"the file on main":        {"", "The file promotions/spring-api-boost.yaml changed on the base branch main since this form was opened"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := f.post(t, "/promotions/spring-api-boost/revoke", url.Values{"confirmed": {"1"}, "blob": {blobFor(tc.target, stale)},
				"branch": {branch.Name}, "target": {tc.target}, "customer": {"cus_001"}})
			assert.Equal(t, http.StatusConflict, resp.StatusCode)
			assert.Contains(t, body, tc.want)
			assert.Contains(t, body, ">Reload Spring API boost</a>")
			assert.Len(t, f.branches(t), 1, "nothing more committed")
		})
	}
}

// blobFor is a form's blob that is stale for target: main's hash for the
// branch, a made-up one for main.
func blobFor(target, mainBlob string) string {
	if target != "" {
		return mainBlob
	}
	return "0123456789abcdef0123456789abcdef01234567"
}

func TestAfterAnActionThePageSaysWhatWasCommittedWhere(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "customer": {"cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	_, page := f.get(t, resp.Header.Get("Location"))
	assert.Contains(t, page, "Committed <code>"+commit.Hash.String()[:10]+"</code> to <strong>"+branch.Name+"</strong>")
	assert.Contains(t, page, "grant spring-api-boost: 1 customer (cus_002)")
	assert.Contains(t, page, `<a href="`+htmlAttr(link("/promotions/spring-api-boost", "branch", branch.Name))+`">Back to Spring API boost</a>`)
	assert.NotContains(t, page, "Pushed", "nothing is pushed without --push")
}

func htmlAttr(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

func TestCustomerLookupSearchesIDNameAndEmail(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		q        string
		code     int
		location string
		want     string
	}{
		"exact id":       {"cus_001", http.StatusSeeOther, "/customers/cus_001", ""},
		"one name":       {"brightwater", http.StatusSeeOther, "/customers/cus_001", ""},
		"one email":      {"marta.jensen@example.com", http.StatusSeeOther, "/customers/cus_001", ""},
		"several":        {"example.com", http.StatusOK, "", "customers match by id, name or email"},
		"none":           {"zebra", http.StatusNotFound, "", "No customer's id, name or email contains “zebra”."},
		"the old id=...": {"", http.StatusSeeOther, "/customers/cus_002", ""},
	} {
		t.Run(name, func(t *testing.T) {
			path := link("/customers", "q", tc.q)
			if tc.q == "" {
				path = "/customers?id=cus_002"
			}
			resp, err := f.client().Get(f.ts.URL + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.code, resp.StatusCode)
			if tc.location != "" {
				assert.Equal(t, tc.location, resp.Header.Get("Location"))
				return
			}
			_, body := f.get(t, path)
			assert.Contains(t, body, tc.want)
		})
	}
	_, body := f.get(t, "/customers?q=example.com")
	assert.Contains(t, body, `<a href="/customers/cus_001">cus_001</a>`, "each match links to the customer")
}

func TestFaviconIsServed(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.ts.URL + "/favicon.ico")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
}
