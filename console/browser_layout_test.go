package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layoutProblems lists what does not fit the viewport: the document or a
// table (or a card holding one) wider than its box, a row action or a
// header button cut off or outside the screen, and a header on more than
// one line.
const layoutProblems = `(() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const d = document.documentElement;
  if (d.scrollWidth > d.clientWidth) out.push("document scrolls sideways: " + d.scrollWidth + " > " + d.clientWidth);
  document.querySelectorAll("table, .card").forEach((t, i) => {
    if (t.scrollWidth > t.clientWidth + 1) out.push((t.id || t.className || t.tagName) + " #" + i + " overflows: " + t.scrollWidth + " > " + t.clientWidth);
  });
  document.querySelectorAll("td.action button, td.action a, .buttons button, .buttons a, .bulk button, form button, select, input").forEach((b) => {
    if (b.type === "hidden" || b.offsetParent === null) return;
    const r = b.getBoundingClientRect();
    const name = (b.innerText || b.name || b.getAttribute("aria-label") || b.tagName).trim();
    if (r.right > vw + 0.5 || r.left < -0.5) out.push("control " + name + " is outside the screen (" + Math.round(r.left) + ".." + Math.round(r.right) + " of " + vw + ")");
    if (b.scrollWidth > b.clientWidth + 1 && b.tagName === "BUTTON") out.push("button " + name + " is clipped");
    for (let p = b.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== "visible") {
        const pr = p.getBoundingClientRect();
        if (r.right > pr.right + 0.5 || r.left < pr.left - 0.5) out.push("control " + name + " is clipped by " + (p.className || p.tagName));
        break;
      }
    }
  });
  const top = document.querySelector("header.top");
  if (top) {
    const rects = Array.from(top.querySelectorAll("a, button, input, span")).filter((c) => c.offsetParent !== null).map((c) => c.getBoundingClientRect());
    const maxTop = Math.max(...rects.map((r) => r.top)), minBottom = Math.min(...rects.map((r) => r.bottom));
    if (maxTop >= minBottom) out.push("the header wraps onto two lines");
  }
  return JSON.stringify(out);
})()`

func (b *tab) layoutProblems() []string {
	b.t.Helper()
	var out []string
	require.NoError(b.t, json.Unmarshal([]byte(b.eval(layoutProblems)), &out))
	return out
}

// TestBrowserLayoutFitsTheScreen opens every screen at the two most
// common laptop sizes: no page scrolls sideways, no table overflows, no
// control is cut off, the header stays one line on a branch.
func TestBrowserLayoutFitsTheScreen(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "customer": {"cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, _ := f.onlyBranch(t)
	// A long name must wrap inside its cell.
	long := createForm("Winter single sign-on trial for EU starter customers who attended the December webinar series")
	resp2, body := f.post(t, "/promotions", long)
	require.Equal(t, http.StatusSeeOther, resp2.StatusCode, body)
	longBranch := strings.TrimPrefix(strings.SplitN(resp2.Header.Get("Location"), "?", 2)[0], "/changes/")
	screens := []string{
		link("/promotions", "branch", longBranch),
		"/promotions",
		"/promotions/new",
		"/promotions/spring-api-boost?gq=e",
		"/promotions/audit-log-beta",
		"/promotions/audit-log-beta/access?state=revoked",
		"/promotions/audit-log-beta/access?state=granted",
		"/customers/cus_021",
		"/customers?q=example.com",
		"/changes",
		resp.Header.Get("Location"),
		link("/promotions", "branch", branch.Name),
		link("/promotions/spring-api-boost", "branch", branch.Name),
		link("/promotions/spring-api-boost/access", "branch", branch.Name),
	}
	b := newTab(t, f)
	for _, size := range []struct{ w, h int64 }{{1280, 800}, {1024, 768}} {
		require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(size.w, size.h)))
		for _, path := range screens {
			b.open(path)
			assert.Empty(t, b.layoutProblems(), "%dx%d %s", size.w, size.h, path)
		}
		// The confirmation and a refusal are answers to posts.
		b.open("/promotions/migration-burst")
		b.submit("button", "Deactivate")
		assert.Empty(t, b.layoutProblems(), "%dx%d confirmation", size.w, size.h)
		b.open("/promotions/spring-api-boost?gq=lindqvist")
		b.click("checkbox", "cus_004")
		b.submit("button", "Grant to selected customers")
		assert.Empty(t, b.layoutProblems(), "%dx%d refusal", size.w, size.h)
	}
	assert.Len(t, f.branches(t), 2, "the layout walk commits nothing")
}
