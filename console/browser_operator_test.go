package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scenarios of an operator's second round: each drives the console by
// the accessible names of its controls.

func TestBrowserCreateWithEligibility(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions/new")
	b.fill("textbox", "Name", "SSO for EU starter customers")
	b.fill("combobox", "Feature", "sso")
	require.NotEmpty(t, b.named("group", "Eligible plans"))
	b.click("checkbox", "starter")
	b.fill("textbox", "Attribute key 1", "region")
	b.fill("textbox", "Allowed values 1", "eu")
	b.screenshot("create-eligibility")
	resp := b.submit("button", "Save")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	branch, _ := f.onlyBranch(t)
	content := f.fileOn(t, branch.Name, "promotions/sso-for-eu-starter-customers.yaml")
	assert.Contains(t, content, "plans: [starter]")
	assert.Contains(t, content, "region: [eu]")
	f.validates(t, branch.Name)

	// Once applied, eligibility is locked like the other strategic fields.
	b.open("/promotions/spring-api-boost")
	assert.True(t, b.disabled("checkbox", "starter"))
	assert.True(t, b.disabled("textbox", "Attribute key 1"))
	f.untouched(t)
}

func TestBrowserGrantStartsLaterOnTheSameBranch(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions/spring-api-boost")
	b.fill("searchbox", "Search customers", "fjord")
	b.submit("button", "Search")
	b.click("checkbox", "cus_002")
	starts := b.named("combobox", "Grant starts")
	require.Len(t, starts, 2, "the panel's two grant forms each have the field")
	b.set(starts[1], "date")
	at := b.named("textbox", "Grant start date and time (UTC)")
	require.Len(t, at, 1, "only the field of the form set to a date shows it")
	b.set(at[0], "2026-05-04 09:00")
	assert.Contains(t, b.text(), "The grant starts then even if the branch is merged later")
	resp := b.submit("button", "Grant to selected customers")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	branch, _ := f.onlyBranch(t)
	assert.Contains(t, f.fileOn(t, branch.Name, "promotions/spring-api-boost.yaml"), "    - id: cus_002\n      state: granted\n      granted_at: 2026-05-04T09:00:00Z\n")

	// Back on the promotion on that branch, the change goes there by
	// default; revoking the same customer there makes the pull request
	// say revoked, not granted.
	b.submit("link", "Back to Spring API boost")
	assert.Contains(t, b.text(), "Where the change goes")
	var revoke string
	for _, sel := range b.named("button", "Revoke") {
		if b.eval(`document.querySelector(`+"`"+sel+"`"+`).closest("tr").id`) == "customer-cus_002" {
			revoke = sel
		}
	}
	require.NotEmpty(t, revoke, "cus_002's row offers Revoke")
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(revoke)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	radio := b.one("radio", "this branch: "+branch.Name)
	assert.Equal(t, "true", b.eval(`String(document.querySelector(`+"`"+string(radio)+"`"+`).checked)`))
	resp = b.submit("button", "Revoke")
	require.Equal(t, http.StatusOK, int(resp.Status), b.text())
	require.Len(t, f.branches(t), 1, "the second change went to the same branch")
	comment := b.eval(`document.querySelector(".markdown").innerText`)
	assert.Contains(t, comment, "revoked 1 (cus_002)")
	assert.NotContains(t, comment, "granted 1 (cus_002)")
	f.untouched(t)
}

func TestBrowserFindACustomerByNameOrEmail(t *testing.T) {
	f := newFixture(t)
	b := newTab(t, f)
	b.open("/promotions")
	b.fill("searchbox", "Find a customer", "example.com")
	b.submit("button", "Look up")
	assert.Contains(t, b.text(), "customers match by id, name or email")
	b.screenshot("lookup")
	b.submit("link", "cus_004")
	assert.Equal(t, "/customers/cus_004", b.location())
	b.fill("searchbox", "Find a customer", "marta.jensen@example.com")
	b.submit("button", "Look up")
	assert.Equal(t, "/customers/cus_001", b.location(), "one match opens the customer")
	f.untouched(t)
}

func TestBrowserOnlyWhatCanSucceedIsOffered(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Now = func() time.Time { return time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC) } })
	b := newTab(t, f)
	b.open("/promotions/spring-api-boost")
	assert.Empty(t, b.named("button", "Grant to all eligible customers"))
	assert.Empty(t, b.named("button", "Grant"))
	text := b.text()
	assert.Contains(t, text, "The promotion's window closed on 2026-06-01: nobody can be granted it any more.")
	assert.Contains(t, text, "(closed on 2026-06-01)")
	assert.NotContains(t, text, "ago)", "a closed window reads as a date")

	// The picker marks customers the rules leave out, and says why.
	b.open("/promotions/sso-for-growth")
	b.fill("searchbox", "Search customers", "cus_00")
	b.submit("button", "Search")
	assert.True(t, b.disabled("checkbox", "cus_001"))
	assert.Contains(t, b.text(), "not eligible: plan starter is not one of growth")
	assert.False(t, b.disabled("checkbox", "cus_002"))

	// A refusal reads as sentences and returns to the page it came from.
	b.click("checkbox", "cus_002")
	starts := b.named("combobox", "Grant starts")
	require.Len(t, starts, 2)
	b.set(starts[1], "date")
	b.fill("textbox", "Grant start date and time (UTC)", "2026-01-01")
	resp := b.submit("button", "Grant to selected customers")
	assert.Equal(t, http.StatusUnprocessableEntity, int(resp.Status))
	assert.Contains(t, b.text(), "before the promotion's window opens on 2026-02-15")
	assert.NotContains(t, b.text(), "T00:00:00Z")
	b.submit("link", "Back to SSO for Growth")
	assert.True(t, strings.HasPrefix(b.location(), "/promotions/sso-for-growth"), b.location())
	assert.Empty(t, f.branches(t))
	f.untouched(t)
}

// set sets the value of the control at sel and tells the page's script.
func (b *tab) set(sel, value string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.SetValue(sel, value)))
	b.eval(`document.querySelector(` + "`" + sel + "`" + `).dispatchEvent(new Event("change", {bubbles: true})); "ok"`)
}
