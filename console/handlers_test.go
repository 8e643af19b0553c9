package console

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPagesRender(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/promotions", []string{"Create promotional entitlement", "Spring API boost", "spring-api-boost", "ending within 14 days", "Audit log beta"}},
		{"/promotions?q=storage", []string{"Referral storage bonus", "3 shown"}},
		{"/promotions?status=deactivated", []string{"audit-log-preview", "1 shown"}},
		{"/promotions?type=boolean&feature=sso", []string{"sso-for-growth", "1 shown"}},
		{"/promotions/new", []string{`<label for="f-name">Name</label>`, "Feature type", "Application mode", "Included allowance", "Reset interval", ">Save<"}},
		{"/promotions/spring-api-boost", []string{"Policy", "locked", "Grant to customers", "Manage access", "Deactivate", "cus_001", `aria-label="Revoke"`}},
		{"/promotions/spring-api-boost?gq=fjord", []string{`aria-label="cus_002"`, "Fjordline Logistics"}},
		{"/promotions/audit-log-preview", []string{"Activate", "is deactivated since 2026-02-20 17:00: activate it before granting it."}},
		{"/promotions/summer-storage-bonus", []string{"Nobody holds this promotion yet", "Grant to all eligible"}},
		{"/promotions/audit-log-beta/access", []string{"Granted", "Revoked", `aria-label="cus_010"`, "all 2 matching", ">Revoke</button>"}},
		{"/promotions/audit-log-beta/access?state=revoked&q=cus_00", []string{`aria-label="cus_006"`, "all 6 matching", ">Grant</button>"}},
		{"/customers/cus_001", []string{"Brightwater Analytics", "Decisions at 2026-04-25 12:00:00 UTC", "spring-api-boost", "api_calls"}},
		{"/changes", []string{"No change yet."}},
		{"/signin", nil}, // no token: straight to the promotions
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := f.get(t, tc.path)
			if tc.path == "/signin" {
				assert.Equal(t, http.StatusSeeOther, code)
				return
			}
			require.Equal(t, http.StatusOK, code, body)
			for _, w := range tc.want {
				assert.Contains(t, body, w)
			}
		})
	}
}

func TestPagesAnswerMissingThingsWith404(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/promotions/nope", "/promotions/nope/access", "/customers/cus_999", "/changes/promoctl/none", "/changes/main", "/promotions?branch=main2"} {
		t.Run(path, func(t *testing.T) {
			code, _ := f.get(t, path)
			assert.Equal(t, http.StatusNotFound, code)
		})
	}
}

func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/promotions", "/assets/console.css", "/nope"} {
		resp, err := http.Get(f.ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
	}
}

func TestAssetsAreEmbedded(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/assets/console.css", "/assets/console.js"} {
		code, body := f.get(t, path)
		assert.Equal(t, http.StatusOK, code, path)
		assert.NotEmpty(t, body, path)
	}
	_, page := f.get(t, "/promotions")
	assert.NotContains(t, page, "https://", "no asset from another site")
	assert.NotContains(t, page, "<script>", "no inline script")
}

func TestGrantCommitsOnANewBranch(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")},
		"customer": {"cus_004", "cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.Equal(t, "promoctl/grant-spring-api-boost-20260425-120000", branch.Name)
	assert.Equal(t, "/changes/"+branch.Name+"?committed="+commit.Hash.String()+"&promotion=spring-api-boost", resp.Header.Get("Location"))
	assert.True(t, strings.HasPrefix(commit.Message, "grant spring-api-boost: 2 customers (cus_002, cus_004)\n"), commit.Message)
	assert.Equal(t, testAuthor.Name, commit.Author.Name)
	assert.Equal(t, testAuthor.Email, commit.Author.Email)
	f.validates(t, branch.Name)
	f.untouched(t)

	code, page := f.get(t, resp.Header.Get("Location"))
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, "Valid against main")
	assert.Contains(t, page, "spring-api-boost")
	assert.Contains(t, page, "<h4>Promotions</h4>", "the PR comment's markdown is rendered")
	assert.Contains(t, page, "grants: granted 1 (cus_002)")
	code, page = f.get(t, "/changes")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, branch.Name)
}

func TestRevokeAllMatching(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/audit-log-beta/revoke", url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/audit-log-beta.yaml")},
		"from": {"access"}, "state": {"granted"}, "all_matching": {"2"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "revoke audit-log-beta: 2 customers (cus_010, cus_011)\n"), commit.Message)
	assert.NotContains(t, f.fileOn(t, branch.Name, "promotions/audit-log-beta.yaml"), "state: granted")
	f.untouched(t)
}

func TestAllMatchingThatMovedIsAConflict(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/audit-log-beta/revoke", url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/audit-log-beta.yaml")},
		"from": {"access"}, "state": {"granted"}, "all_matching": {"3"}})
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, body, "The matching set moved: the selection was all 3 matching customers, and 2 match now")
	assert.Contains(t, body, "Reload")
	assert.Empty(t, f.branches(t))
	f.untouched(t)
}

func TestStaleFormIsAConflict(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/migration-burst/deactivate", url.Values{"confirmed": {"1"}, "blob": {"0123456789abcdef0123456789abcdef01234567"}})
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, body, "The file promotions/migration-burst.yaml changed on the base branch main since this form was opened")
	assert.Contains(t, body, `href="/promotions/migration-burst"`)
	assert.Empty(t, f.branches(t))
	f.untouched(t)
}

func TestRefusalsCommitNothing(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		path string
		form url.Values
		code int
		want string
	}{
		"unknown customer":  {"/promotions/spring-api-boost/grant", url.Values{"customer": {"cus_999"}}, http.StatusUnprocessableEntity, "cus_999"},
		"ineligible":        {"/promotions/sso-for-growth/grant", url.Values{"customer": {"cus_001"}}, http.StatusUnprocessableEntity, "cus_001"},
		"deactivated":       {"/promotions/audit-log-preview/grant", url.Values{"customer": {"cus_001"}}, http.StatusUnprocessableEntity, "Audit log preview (Starter) is deactivated since 2026-02-20 17:00: activate it before granting it."},
		"nothing selected":  {"/promotions/spring-api-boost/revoke", url.Values{}, http.StatusUnprocessableEntity, "Select at least one customer"},
		"already granted":   {"/promotions/spring-api-boost/grant", url.Values{"customer": {"cus_001"}}, http.StatusUnprocessableEntity, "nothing to change"},
		"unknown action":    {"/promotions/spring-api-boost/explode", url.Values{}, http.StatusNotFound, "No action"},
		"unknown promotion": {"/promotions/nope/revoke", url.Values{"customer": {"cus_001"}}, http.StatusNotFound, "nope"},
		"foreign branch":    {"/promotions/spring-api-boost/revoke", url.Values{"confirmed": {"1"}, "customer": {"cus_001"}, "target": {"main"}}, http.StatusUnprocessableEntity, "is not one of the console"},
	} {
		t.Run(name, func(t *testing.T) {
			form := tc.form
			if form.Get("blob") == "" {
				file := "promotions/" + strings.Split(tc.path, "/")[2] + ".yaml"
				if h, err := f.srv.git.BlobHash(f.mainTip, file); err == nil {
					form.Set("blob", h)
				}
			}
			resp, body := f.post(t, tc.path, form)
			assert.Equal(t, tc.code, resp.StatusCode, body)
			assert.Contains(t, body, tc.want)
			assert.Empty(t, f.branches(t), "nothing committed")
			f.untouched(t)
		})
	}
}

func TestDeactivateAndActivate(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/migration-burst/deactivate", url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/migration-burst.yaml")}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "deactivate migration-burst\n"), commit.Message)
	content := f.fileOn(t, branch.Name, "promotions/migration-burst.yaml")
	assert.Contains(t, content, "status: deactivated")
	assert.Contains(t, content, "deactivated_at: 2026-04-25T12:00:00Z")
	f.validates(t, branch.Name)

	// Activate on the same branch: a second commit there.
	blob, err := f.srv.git.BlobHash(branch.Tip, "promotions/migration-burst.yaml")
	require.NoError(t, err)
	resp, body = f.post(t, "/promotions/migration-burst/activate", url.Values{"blob": {blob}, "branch": {branch.Name}, "target": {branch.Name}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	commits, err := f.srv.git.Commits(f.branches(t)[0].Tip, f.mainTip, 0)
	require.NoError(t, err)
	require.Len(t, commits, 2)
	assert.Contains(t, f.fileOn(t, branch.Name, "promotions/migration-burst.yaml"), "status: active")
	f.untouched(t)
}

func createForm(name string) url.Values {
	return url.Values{"name": {name}, "description": {"Twice the storage over the summer"}, "feature_type": {"metered"}, "feature": {"storage_gb"},
		"start_mode": {"date"}, "start_date": {"2026-06-01"}, "expiry_mode": {"date"}, "expiry_date": {"2026-09-01"},
		"duration_on": {"on"}, "duration_value": {"2"}, "duration_unit": {"months"},
		"mode": {"additive"}, "allowance": {"100"}, "reset": {"never"}}
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions", createForm("Summer storage double"))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.Equal(t, "promoctl/create-summer-storage-double-20260425-120000", branch.Name)
	assert.True(t, strings.HasPrefix(commit.Message, "create summer-storage-double (storage_gb, metered)\n"), commit.Message)
	content := f.fileOn(t, branch.Name, "promotions/summer-storage-double.yaml")
	for _, want := range []string{"id: summer-storage-double", "feature: storage_gb", "start: 2026-06-01T00:00:00Z", "end: 2026-09-01T00:00:00Z",
		"value: 2", "unit: months", "allowance: 100", "is_applied: false"} {
		assert.Contains(t, content, want)
	}
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestCreateShowsMessagesAtTheFields(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		change func(url.Values)
		want   string
	}{
		"no name":                 {func(v url.Values) { v.Set("name", "") }, `id="e-name">Enter a name.`},
		"expiry before start":     {func(v url.Values) { v.Set("expiry_date", "2026-05-01") }, "The expiry must be after the start"},
		"bad date":                {func(v url.Values) { v.Set("start_date", "June") }, "Enter the start as a date"},
		"feature of another type": {func(v url.Values) { v.Set("feature", "sso") }, "Feature sso is boolean, not metered."},
		"bad allowance":           {func(v url.Values) { v.Set("allowance", "lots") }, "Enter a whole number of at least 0, or unlimited."},
		"zero duration":           {func(v url.Values) { v.Set("duration_value", "0") }, "Enter a whole number of at least 1."},
		"taken id":                {func(v url.Values) { v.Set("name", "Spring API boost") }, "A promotion with id spring-api-boost exists already"},
	} {
		t.Run(name, func(t *testing.T) {
			form := createForm("Summer storage double")
			tc.change(form)
			resp, body := f.post(t, "/promotions", form)
			assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
			assert.Contains(t, body, tc.want)
			assert.Empty(t, f.branches(t))
			f.untouched(t)
		})
	}
}

func TestEditNameOfAnAppliedPromotion(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")},
		"name": {"Spring API boost (extended)"}, "description": {"Extra API calls"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.Equal(t, "edit spring-api-boost: name, description\n", commit.Message)
	assert.Contains(t, f.fileOn(t, branch.Name, "promotions/spring-api-boost.yaml"), "name: Spring API boost (extended)")
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestForgedEditOfALockedFieldIsRefused(t *testing.T) {
	f := newFixture(t)
	for field, value := range map[string]string{"feature": "seats", "expiry_date": "2026-07-01", "allowance": "1"} {
		t.Run(field, func(t *testing.T) {
			form := url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "name": {"Spring API boost"}, field: {value}}
			if field == "expiry_date" {
				form.Set("expiry_mode", "date")
			}
			resp, body := f.post(t, "/promotions/spring-api-boost", form)
			assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
			assert.Contains(t, body, "LOCKED_FIELD")
			assert.Empty(t, f.branches(t), "nothing committed")
			f.untouched(t)
		})
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"blob": {f.blob(t, "promotions/migration-burst.yaml")}}
	for name, headers := range map[string][]string{
		"fetch metadata": {"Sec-Fetch-Site", "cross-site"},
		"origin":         {"Sec-Fetch-Site", "", "Origin", "https://evil.example"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := f.post(t, "/promotions/migration-burst/deactivate", form, headers...)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Contains(t, body, "came from another site")
			assert.Empty(t, f.branches(t))
			f.untouched(t)
		})
	}
}

func TestTokenSignIn(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Token = "s3cret" })
	resp, err := f.client().Get(f.ts.URL + "/promotions/spring-api-boost")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/signin?next=%2Fpromotions%2Fspring-api-boost", resp.Header.Get("Location"))

	resp, body := f.post(t, "/promotions/migration-burst/deactivate", url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/migration-burst.yaml")}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)

	resp, _ = f.post(t, "/signin", url.Values{"token": {"wrong"}, "next": {"/promotions"}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Empty(t, resp.Cookies())

	resp, _ = f.post(t, "/signin", url.Values{"token": {"s3cret"}, "next": {"//evil.example/"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/promotions", resp.Header.Get("Location"), "no redirect off the site")
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.NotContains(t, c.Value, "s3cret")

	req, err := http.NewRequest(http.MethodGet, f.ts.URL+"/promotions", nil)
	require.NoError(t, err)
	req.AddCookie(c)
	resp, err = f.client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	f.untouched(t)
}

func TestIdentityHeaderFromTrustedProxy(t *testing.T) {
	for name, tc := range map[string]struct {
		proxy  string
		header string
		code   int
		author string
	}{
		"trusted proxy":    {"127.0.0.0/8", "Grace Hopper <grace@example.com>", http.StatusSeeOther, "Grace Hopper <grace@example.com>"},
		"email only":       {"127.0.0.0/8", "grace@example.com", http.StatusSeeOther, "grace <grace@example.com>"},
		"no identity":      {"127.0.0.0/8", "", http.StatusUnauthorized, ""},
		"untrusted source": {"10.0.0.0/8", "Grace Hopper <grace@example.com>", http.StatusForbidden, ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) {
				o.IdentityHeader = "X-Forwarded-User"
				o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(tc.proxy)}
			})
			resp, body := f.post(t, "/promotions/migration-burst/deactivate", url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/migration-burst.yaml")}},
				"X-Forwarded-User", tc.header)
			require.Equal(t, tc.code, resp.StatusCode, body)
			if tc.author == "" {
				assert.Empty(t, f.branches(t))
				return
			}
			_, commit := f.onlyBranch(t)
			assert.Equal(t, tc.author, commit.Author.Name+" <"+commit.Author.Email+">")
			f.untouched(t)
		})
	}
}

func TestBranchPageShowsLockViolationsAgainstTheMergeBase(t *testing.T) {
	f := newFixture(t)
	// A branch edited by hand breaks the lock; the page says so.
	_, err := f.srv.git.Commit(gitstoreCommit(f, "promoctl/by-hand", "promotions/spring-api-boost.yaml",
		strings.Replace(f.worktree["promotions/spring-api-boost.yaml"], "feature: api_calls", "feature: seats", 1)))
	require.NoError(t, err)
	code, body := f.get(t, "/changes/promoctl/by-hand")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "Invalid:")
	assert.Contains(t, body, "LOCKED_FIELD")
	f.untouched(t)
}

func TestPushFetchesTheBaseAndPushesTheBranch(t *testing.T) {
	f := newFixture(t)
	bare := t.TempDir()
	_, err := git.PlainClone(bare, true, &git.CloneOptions{URL: f.dir})
	require.NoError(t, err)
	_, err = f.git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{bare}})
	require.NoError(t, err)
	srv, err := New(Options{Repo: f.dir, Author: testAuthor, Now: func() time.Time { return testNow }, Push: "origin"})
	require.NoError(t, err)
	f.srv = srv
	f.ts.Config.Handler = srv.Handler()

	resp, body := f.post(t, "/promotions/migration-burst/deactivate", url.Values{"confirmed": {"1"}, "blob": {f.blob(t, "promotions/migration-burst.yaml")}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, _ := f.onlyBranch(t)
	remote, err := git.PlainOpen(bare)
	require.NoError(t, err)
	ref, err := remote.Reference(plumbing.NewBranchReferenceName(branch.Name), true)
	require.NoError(t, err)
	assert.Equal(t, branch.Tip, ref.Hash(), "the branch is on the remote")
	tracking, err := f.git.Reference(plumbing.NewRemoteReferenceName("origin", "main"), true)
	require.NoError(t, err)
	assert.Equal(t, f.mainTip, tracking.Hash(), "the base was fetched before the write")

	// The page after the action says so; a remote on no known host gets
	// the branch name and the command that asks for the pull.
	_, page := f.get(t, resp.Header.Get("Location"))
	assert.Contains(t, page, "Pushed to origin.")
	assert.Contains(t, page, "Open a pull request from <strong>"+branch.Name+"</strong> into <strong>main</strong> on your Git host")
	assert.Contains(t, page, "<code>git request-pull main "+bare+" "+branch.Name+"</code>")
	f.untouched(t)
}
