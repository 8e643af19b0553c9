package console

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser tests drive the console in a real headless Chromium
// (Debian's chromium; make test installs it when missing). They locate
// every control by its accessible name, as an operator with a screen
// reader would. go test -short skips them.

var screenshots = flag.Bool("screenshots", false, "write a screenshot of each screen into docs/console/")

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel = func() {}
	browserErr    error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	browserCancel()
	os.Exit(code)
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab is one browser tab on a fixture's console.
type tab struct {
	t   *testing.T
	ctx context.Context
	f   *fixture
}

func newTab(t *testing.T, f *fixture) *tab {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: runs without -short (make test)")
	}
	path := chromiumPath()
	require.NotEmpty(t, path, "Chromium is not installed: apt-get install -y chromium (make test does it)")
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1360, 900),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browserCtx, browserCancel = ctx, func() { cancelCtx(); cancelAlloc() }
		browserErr = chromedp.Do(ctx)
	})
	require.NoError(t, browserErr, "start Chromium")
	ctx, cancel := chromedp.NewContext(browserCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	return &tab{t: t, ctx: ctx, f: f}
}

func (b *tab) open(path string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Navigate(b.f.ts.URL+path)))
}

// named finds the elements with an accessible role and name and returns
// a CSS selector for each (the element is tagged with data-pick).
func (b *tab) named(role, name string) []string {
	b.t.Helper()
	sels, err := chromedp.Run(b.ctx, chromedp.Action[[]string](func(ctx context.Context, t *chromedp.Target) ([]string, error) {
		doc, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: "document"})
		if err != nil {
			return nil, err
		}
		res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{ObjectID: doc.Result.ObjectID, AccessibleName: name, Role: role})
		if err != nil {
			return nil, err
		}
		var sels []string
		for _, n := range res.Nodes {
			if n.Ignored || n.BackendDOMNodeID == 0 {
				continue
			}
			obj, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: n.BackendDOMNodeID})
			if err != nil {
				return nil, err
			}
			k := pickSeq.Add(1)
			if _, err := cdp.Call(ctx, t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{ObjectID: obj.Object.ObjectID,
				FunctionDeclaration: fmt.Sprintf(`function(){ this.setAttribute("data-pick", "%d") }`, k)}); err != nil {
				return nil, err
			}
			sels = append(sels, fmt.Sprintf(`[data-pick="%d"]`, k))
		}
		return sels, nil
	}))
	require.NoError(b.t, err)
	return sels
}

var pickSeq atomic.Int64

// one finds exactly one element by role and name.
func (b *tab) one(role, name string) chromedp.CSS {
	b.t.Helper()
	sels := b.named(role, name)
	require.Len(b.t, sels, 1, "one %s named %q", role, name)
	return chromedp.CSS(sels[0])
}

// submit clicks a control that navigates and returns the response.
func (b *tab) submit(role, name string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(b.one(role, name)))
	require.NoError(b.t, err)
	return resp
}

// fill sets a form field found by its label and tells the page's script.
func (b *tab) fill(role, label, value string) {
	b.t.Helper()
	sel := b.one(role, label)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.SetValue(sel, value)))
	b.eval(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true})); "ok"`, string(sel)))
}

func (b *tab) click(role, name string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(b.one(role, name))))
}

func (b *tab) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	require.NoError(b.t, err, js)
	return v
}

func (b *tab) text() string { return b.eval(`document.body.innerText`) }

func (b *tab) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(b.t, err)
	return strings.TrimPrefix(loc, b.f.ts.URL)
}

// disabled reports whether the form control with this label is disabled
// (by itself or by a disabled fieldset).
func (b *tab) disabled(role, label string) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`String(document.querySelector(%q).matches(":disabled"))`, string(b.one(role, label)))) == "true"
}

// screenshot writes the page into docs/console/ with -screenshots.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if !*screenshots {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	dir := filepath.Join("..", "docs", "console")
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func TestBrowserCreate(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions")
	b.screenshot("promotions")
	resp := b.submit("link", "Create promotional entitlement")
	require.Equal(t, http.StatusOK, int(resp.Status))
	assert.Equal(t, "true", b.eval(`String(document.querySelector("[data-metered]").hidden)`), "metered fields only for metered features")

	b.fill("textbox", "Name", "Partner API boost")
	b.fill("textbox", "Description", "Extra calls for integration partners")
	b.fill("combobox", "Feature type", "metered")
	assert.Equal(t, "false", b.eval(`String(document.querySelector("[data-metered]").hidden)`))
	assert.Equal(t, "true", b.eval(`String(document.querySelector("#f-feature option[value=sso]").disabled)`), "only features of the type are offered")
	b.fill("combobox", "Feature", "api_calls")
	b.fill("combobox", "Start", "date")
	b.fill("textbox", "Start date", "2026-05-01")
	b.fill("combobox", "Expiry", "date")
	b.fill("textbox", "Expiry date", "2026-04-01")
	b.click("checkbox", "Duration")
	b.fill("textbox", "Duration value", "2")
	b.fill("combobox", "Duration unit", "months")
	b.fill("combobox", "Application mode", "override")
	b.fill("textbox", "Included allowance", "20000")
	b.fill("combobox", "Reset interval", "monthly")

	// A mistake is shown at its field and commits nothing.
	resp = b.submit("button", "Save")
	assert.Equal(t, http.StatusUnprocessableEntity, int(resp.Status))
	assert.Contains(t, b.text(), "The expiry must be after the start (2026-05-01).")
	assert.Empty(t, f.branches(t))

	b.fill("textbox", "Expiry date", "2026-08-01")
	b.screenshot("create")
	resp = b.submit("button", "Save")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(b.location(), "/changes/"+branch.Name+"?committed="), b.location())
	assert.Contains(t, b.text(), "Valid against main")
	assert.Equal(t, "promoctl/create-partner-api-boost-20260425-120000", branch.Name)
	assert.True(t, strings.HasPrefix(commit.Message, "create partner-api-boost (api_calls, metered)\n"), commit.Message)
	assert.Equal(t, testAuthor.Email, commit.Author.Email)
	content := f.fileOn(t, branch.Name, "promotions/partner-api-boost.yaml")
	for _, want := range []string{"name: Partner API boost", "mode: override", "allowance: 20000", "reset: monthly", "value: 2", "unit: months",
		"start: 2026-05-01T00:00:00Z", "end: 2026-08-01T00:00:00Z", "is_applied: false"} {
		assert.Contains(t, content, want)
	}
	f.validates(t, branch.Name)
	b.screenshot("branch")
	f.untouched(t)
}

func TestBrowserLock(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions/spring-api-boost")
	assert.Contains(t, b.text(), "only Name and Description can be edited")
	for _, field := range []struct{ role, label string }{{"combobox", "Feature type"}, {"combobox", "Feature"}, {"combobox", "Start"},
		{"combobox", "Expiry"}, {"checkbox", "Duration"}, {"combobox", "Application mode"}, {"textbox", "Included allowance"}, {"combobox", "Reset interval"}} {
		assert.True(t, b.disabled(field.role, field.label), "%s is disabled", field.label)
	}
	assert.False(t, b.disabled("textbox", "Name"))
	assert.False(t, b.disabled("textbox", "Description"))
	b.screenshot("details")

	// Forge the form: enable the locked fields and change the feature.
	b.eval(`document.querySelector("fieldset.strategic").disabled = false; "ok"`)
	b.fill("combobox", "Feature", "seats")
	resp := b.submit("button", "Save")
	assert.Equal(t, http.StatusUnprocessableEntity, int(resp.Status))
	assert.Contains(t, b.text(), "LOCKED_FIELD")
	assert.Empty(t, f.branches(t), "nothing committed")
	f.untouched(t)
}

func TestBrowserManageAccessGrantsThreeRevoked(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions/audit-log-beta")
	b.submit("link", "Manage access")
	b.submit("link", "Revoked")
	b.fill("searchbox", "Search customers", "cus_00")
	b.submit("button", "Search")
	text := b.text()
	assert.Contains(t, text, "all 6 matching")
	assert.NotContains(t, text, "cus_014", "the search narrowed the list")
	for _, id := range []string{"cus_002", "cus_004", "cus_006"} {
		b.click("checkbox", id)
	}
	assert.Contains(t, b.text(), "3 selected")
	b.screenshot("access")
	resp := b.submit("button", "Grant")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())

	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "grant audit-log-beta: 3 customers (cus_002, cus_004, cus_006)\n"), commit.Message)
	content := f.fileOn(t, branch.Name, "promotions/audit-log-beta.yaml")
	assert.Equal(t, 5, strings.Count(content, "state: granted"), "two before, three re-granted")
	assert.Equal(t, 4, strings.Count(content, "state: revoked"))
	assert.Equal(t, 3, strings.Count(content, "granted_at: 2026-04-25T12:00:00Z"))
	assert.NotContains(t, f.fileOn(t, "main", "promotions/audit-log-beta.yaml"), "2026-04-25")
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestBrowserManageAccessRenewsAnExpiredGrant(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	// cus_006's 8-week pilot grant ran out on 2026-03-09: stored as
	// granted, it is expired now, so it is listed under Revoked.
	b.open("/promotions/storage-unlimited-pilot")
	b.submit("link", "Manage access")
	assert.NotContains(t, b.text(), "cus_006", "an expired grant is not under Granted")
	b.submit("link", "Revoked")
	text := b.text()
	assert.Contains(t, text, "all 1 matching")
	assert.Contains(t, b.eval(`document.querySelector("#customer-cus_006").innerText`), "expired")
	b.click("checkbox", "cus_006")
	assert.Contains(t, b.text(), "1 selected")
	resp := b.submit("button", "Grant")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())

	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "grant storage-unlimited-pilot: 1 customer (cus_006)\n"), commit.Message)
	content := f.fileOn(t, branch.Name, "promotions/storage-unlimited-pilot.yaml")
	assert.Contains(t, content, "    - id: cus_006\n      state: granted\n      granted_at: 2026-04-25T12:00:00Z\n      previous:\n        - {granted_at: 2026-01-12T09:00:00Z}\n",
		"a new period, the ended one kept in previous")
	f.validates(t, branch.Name)

	// On the branch the renewed grant is under Granted again.
	b.open("/promotions/storage-unlimited-pilot/access?state=granted&branch=" + branch.Name)
	assert.Contains(t, b.eval(`document.querySelector("#customer-cus_006").innerText`), "active")
	f.untouched(t)
}

func TestBrowserDeactivate(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions/migration-burst")
	resp := b.submit("button", "Deactivate")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	// A second step, without script: it says what will be deactivated.
	assert.Contains(t, b.text(), "Deactivate Migration burst quota?")
	assert.Contains(t, b.text(), "ends every grant still running or scheduled (2 customers)")
	assert.Empty(t, f.branches(t), "nothing committed before the confirmation")
	b.screenshot("confirm")
	resp = b.submit("button", "Deactivate")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	branch, commit := f.onlyBranch(t)
	assert.True(t, strings.HasPrefix(commit.Message, "deactivate migration-burst\n"), commit.Message)
	// The page after the action says what was committed where and leads
	// back to the promotion on that branch.
	assert.Contains(t, b.text(), "Committed "+commit.Hash.String()[:10]+" to "+branch.Name)
	b.submit("link", "Back to Migration burst quota")
	assert.Equal(t, "/promotions/migration-burst?branch="+strings.ReplaceAll(branch.Name, "/", "%2F"), b.location())
	assert.Contains(t, f.fileOn(t, branch.Name, "promotions/migration-burst.yaml"), "status: deactivated")
	f.validates(t, branch.Name)

	// The branch can be browsed: there the promotion offers Activate.
	assert.NotEmpty(t, b.named("button", "Activate"))
	assert.Empty(t, b.named("button", "Deactivate"))
	f.untouched(t)
}

func TestBrowserScriptInANameIsText(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	name := `<script>document.title="pwned"</script> Promo`
	b.open("/promotions/new")
	b.fill("textbox", "Name", name)
	b.fill("combobox", "Feature", "sso")
	resp := b.submit("button", "Save")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	branch, _ := f.onlyBranch(t)
	b.open("/promotions?branch=" + branch.Name)
	assert.Contains(t, b.text(), name)
	b.open("/promotions/script-document-title-pwned-script-promo?branch=" + branch.Name)
	assert.Equal(t, name, b.eval(`document.querySelector("h1").firstChild.textContent.trim()`))
	assert.Equal(t, "1", b.eval(`String(document.scripts.length)`), "only the console's own script")
	assert.NotEqual(t, "pwned", b.eval(`document.title`))
	f.untouched(t)
}

func TestBrowserCrossOriginPostIsRefused(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	blob := f.blob(t, "promotions/migration-burst.yaml")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="post" action="%s/promotions/migration-burst/deactivate"><input type="hidden" name="blob" value="%s"><button>Win a prize</button></form>`, f.ts.URL, blob)
	}))
	defer evil.Close()
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Navigate(evil.URL)))
	resp := b.submit("button", "Win a prize")
	assert.Equal(t, http.StatusForbidden, int(resp.Status))
	assert.Contains(t, b.text(), "came from another site")
	assert.Empty(t, f.branches(t))
	f.untouched(t)
}

func TestBrowserStaleFormGetsAConflict(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions/migration-burst")
	// Meanwhile someone merges a change of that file into main (with git:
	// the console itself never moves the checked-out main).
	moved, err := f.srv.git.Commit(gitstoreCommit(f, "reviewed", "promotions/migration-burst.yaml",
		f.worktree["promotions/migration-burst.yaml"]+"# reviewed\n"))
	require.NoError(t, err)
	require.NoError(t, f.git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), moved)))
	f.mainTip, f.mainMoved = moved, true

	b.submit("button", "Deactivate")
	resp := b.submit("button", "Deactivate")
	assert.Equal(t, http.StatusConflict, int(resp.Status))
	assert.Contains(t, b.text(), "The file promotions/migration-burst.yaml changed on the base branch main since this form was opened")
	assert.Empty(t, f.branches(t), "nothing committed")

	b.submit("link", "Reload Migration burst quota")
	b.submit("button", "Deactivate")
	resp = b.submit("button", "Deactivate")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	branch, _ := f.onlyBranch(t)
	assert.Contains(t, f.fileOn(t, branch.Name, "promotions/migration-burst.yaml"), "# reviewed")
	f.untouched(t)
}

func TestBrowserCustomerAndChanges(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions")
	b.fill("searchbox", "Find a customer", "Brightwater")
	b.submit("button", "Look up")
	assert.Equal(t, "/customers/cus_001", b.location(), "one match opens the customer")
	text := b.text()
	assert.Contains(t, text, "Brightwater Analytics")
	assert.Contains(t, text, "migration-burst")
	b.screenshot("customer")

	b.open("/promotions/spring-api-boost")
	b.fill("searchbox", "Search customers", "lindqvist")
	b.submit("button", "Search")
	b.click("checkbox", "cus_004")
	resp := b.submit("button", "Grant to selected customers")
	require.Equal(t, http.StatusUnprocessableEntity, int(resp.Status), "cus_004 holds it already")
	b.open("/promotions/apac-priority-support")
	resp = b.submit("button", "Grant to all eligible customers")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	b.open("/promotions/spring-api-boost")
	revoke := b.named("button", "Revoke")
	require.NotEmpty(t, revoke)
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(revoke[0])))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	assert.Contains(t, b.text(), "Revoke Spring API boost for 1 customer")
	resp = b.submit("button", "Revoke")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	b.open("/changes")
	assert.Len(t, f.branches(t), 2)
	assert.Contains(t, b.text(), "grant apac-priority-support: all eligible customers")
	assert.Contains(t, b.text(), "revoke spring-api-boost: 1 customer (cus_001)")
	b.screenshot("changes")
	f.untouched(t)
}
