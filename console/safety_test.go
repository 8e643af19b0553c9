package console

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sign-in's next is followed only when it parses as a path of this
// site: tabs, newlines and backslashes, which browsers drop or read as a
// slash, send it to the promotions instead.
func TestSignInNextStaysOnTheSite(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Token = "s3cret" })
	for next, want := range map[string]string{
		"/promotions/spring-api-boost?branch=x": "/promotions/spring-api-boost?branch=x",
		"/customers/cus_001#history-h":          "/customers/cus_001#history-h",
		"/\t/evil.example/x":                    "/promotions",
		"/\n/evil.example/x":                    "/promotions",
		"/\r\n/evil.example":                    "/promotions",
		"/\\evil.example":                       "/promotions",
		"/ /evil.example":                       "/promotions",
		"//evil.example/":                       "/promotions",
		"https://evil.example/":                 "/promotions",
		"/%2F/evil.example":                     "/promotions",
		"javascript:alert(1)":                   "/promotions",
		"":                                      "/promotions",
	} {
		resp, _ := f.post(t, "/signin", url.Values{"token": {"s3cret"}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%q", next)
		loc := resp.Header.Get("Location")
		assert.Equal(t, want, loc, "%q", next)
		to, err := url.Parse(f.ts.URL)
		require.NoError(t, err)
		target, err := to.Parse(loc)
		require.NoError(t, err)
		assert.Equal(t, to.Host, target.Host, "%q leads to %s", next, target)
	}
	code, page := f.get(t, "/signin?next="+url.QueryEscape("/\t/evil.example/x"))
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, page, "evil.example")
}

// A request that carries the identity header twice is refused: which one
// would author the commit is a guess.
func TestIdentityHeaderTwiceIsRefused(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.IdentityHeader = "X-Forwarded-User"
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	form := url.Values{"blob": {f.blob(t, "promotions/migration-burst.yaml")}}
	req, err := http.NewRequest(http.MethodPost, f.ts.URL+"/promotions/migration-burst/deactivate", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Add("X-Forwarded-User", "Mallory <mallory@example.com>")
	req.Header.Add("X-Forwarded-User", "Grace Hopper <grace@example.com>")
	resp, err := f.client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, f.branches(t), "nothing committed")

	req, err = http.NewRequest(http.MethodGet, f.ts.URL+"/promotions", nil)
	require.NoError(t, err)
	req.Header.Add("X-Forwarded-User", "grace@example.com")
	req.Header.Add("X-Forwarded-User", "grace@example.com")
	resp, err = f.client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "even twice the same")
	f.untouched(t)
}

// The console never moves a branch that is checked out in the repo's work
// tree: the next commit made there would undo the change.
func TestCheckedOutBranchIsNotMoved(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")},
		"customer": {"cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	// Someone checks the console's branch out in the work tree.
	require.NoError(t, f.git.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch.Name))))

	blob, err := f.srv.git.BlobHash(commit.Hash, "promotions/spring-api-boost.yaml")
	require.NoError(t, err)
	resp, body = f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {blob},
		"customer": {"cus_005"}, "target": {branch.Name}})
	assert.Contains(t, body, "is checked out in the work tree")
	assert.NotEqual(t, http.StatusSeeOther, resp.StatusCode)
	tip, err := f.git.Reference(plumbing.NewBranchReferenceName(branch.Name), false)
	require.NoError(t, err)
	assert.Equal(t, commit.Hash, tip.Hash(), "the branch did not move")
}

// A promotion file named with a newline, markdown emphasis and a link
// shows on the branch page as text: the pull-request comment rendered
// there has no bold and no link from it.
func TestBranchPageShowsHostileFileNamesAsText(t *testing.T) {
	f := newFixture(t)
	const name = "promotions/x\n\n**bold** [click](https:/evil.example/x).yaml"
	content := "kind: PromotionalEntitlement\nid: hostile-name\nname: Hostile name\nfeature: sso\nfeature_type: boolean\nis_applied: false\n"
	_, err := f.srv.git.Commit(gitstoreCommit(f, "promoctl/hostile", name, content))
	require.NoError(t, err)
	code, page := f.get(t, "/changes/promoctl/hostile")
	require.Equal(t, http.StatusOK, code, page)
	assert.Contains(t, page, "hostile-name")
	assert.NotContains(t, page, "<strong>bold")
	assert.NotContains(t, page, `href="https:/evil.example`)
}
