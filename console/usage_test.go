package console

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
)

// embeddedUsage opens the embedded store in dir for each page, as the
// console command does, with the console's test clock.
func embeddedUsage(dir string) func(*snapshot.Snapshot) (meter.Client, func(), error) {
	return func(snap *snapshot.Snapshot) (meter.Client, func(), error) {
		s, err := bolt.Open(dir, bolt.Options{SweepEvery: -1, Clock: func() time.Time { return testNow }})
		if err != nil {
			return nil, nil, err
		}
		m := meter.New(meter.SnapshotSource(func() *snapshot.Snapshot { return snap }), s,
			meter.Options{Timeout: 5 * time.Second, Clock: func() time.Time { return testNow }})
		return m, func() { _ = s.Close() }, nil
	}
}

// repoSnapshot is the decision snapshot of the fixture's checkout.
func repoSnapshot(t *testing.T, dir string) *snapshot.Snapshot {
	t.Helper()
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	require.NoError(t, err)
	snap, err := snapshot.Build(res.Model, "test")
	require.NoError(t, err)
	return snap
}

// usageCell is the text of one usage table cell of a feature's bucket row.
func usageCells(body, feature, col string) []string {
	table := regexp.MustCompile(`(?s)<table class="grid usage" id="usage-` + regexp.QuoteMeta(feature) + `">.*?</table>`).FindString(body)
	var out []string
	for _, m := range regexp.MustCompile(`data-col="`+col+`">([^<]*)<`).FindAllStringSubmatch(table, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestCustomerPageShowsUsageFromTheEmbeddedStore(t *testing.T) {
	data := t.TempDir()
	open := embeddedUsage(data)
	f := newFixture(t, func(o *Options) { o.Usage = open })

	client, closeStore, err := open(repoSnapshot(t, f.dir))
	require.NoError(t, err)
	a, err := client.Consume(context.Background(), meter.ConsumeRequest{Customer: "cus_001", Feature: "api_calls", Amount: 1234, IdempotencyKey: "page-1"}, false)
	require.NoError(t, err)
	require.True(t, a.Allowed)
	want, err := client.Usage(context.Background(), meter.Query{Customer: "cus_001", Feature: "api_calls"}, testNow)
	require.NoError(t, err)
	closeStore()
	require.NotEmpty(t, want.Buckets)

	code, body := f.get(t, "/customers/cus_001")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `id="usage-api_calls"`)
	var used, remaining []string
	var total int64
	for _, b := range want.Buckets {
		require.NotNil(t, b.Used)
		total += *b.Used
		used = append(used, strconv.FormatInt(*b.Used, 10))
		if b.Unlimited {
			remaining = append(remaining, "unlimited")
		} else {
			remaining = append(remaining, strconv.FormatInt(*b.Remaining, 10))
		}
	}
	assert.Equal(t, int64(1234), total, "the consumed units are in the buckets")
	assert.Equal(t, used, usageCells(body, "api_calls", "used"))
	assert.Equal(t, remaining, usageCells(body, "api_calls", "remaining"))
	assert.Contains(t, body, `id="usage-seats"`, "every metered feature has its table")
	assert.NotContains(t, body, "cannot be read")
}

func TestCustomerPageRendersWhenTheUsageStoreIsUnreachable(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Usage = func(snap *snapshot.Snapshot) (meter.Client, func(), error) {
			// Port 1 on loopback: nothing listens there.
			s, err := redis.Open("redis://127.0.0.1:1", redis.Options{DialTimeout: 200 * time.Millisecond})
			if err != nil {
				return nil, nil, err
			}
			return meter.New(meter.SnapshotSource(func() *snapshot.Snapshot { return snap }), s, meter.Options{Timeout: time.Second}),
				func() { _ = s.Close() }, nil
		}
	})
	code, body := f.get(t, "/customers/cus_001")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "The usage store cannot be read")
	assert.NotContains(t, body, `class="grid usage"`)
	assert.Contains(t, body, "Decisions at 2026-04-25 12:00:00 UTC", "the rest of the page is there")
}

func TestCustomerPageWithoutUsageStoreSaysSo(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/customers/cus_001")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "Usage is not shown: the console runs without a usage store")
	assert.NotContains(t, body, `class="grid usage"`)
}

// TestBrowserCustomerUsageFitsTheScreen opens a customer page with usage
// at 1280×800: the usage tables are visible and nothing scrolls sideways.
func TestBrowserCustomerUsageFitsTheScreen(t *testing.T) {
	data := t.TempDir()
	open := embeddedUsage(data)
	f := newFixture(t, func(o *Options) { o.Usage = open })
	client, closeStore, err := open(repoSnapshot(t, f.dir))
	require.NoError(t, err)
	_, err = client.Consume(context.Background(), meter.ConsumeRequest{Customer: "cus_001", Feature: "api_calls", Amount: 25000, IdempotencyKey: "browser-1"}, false)
	require.NoError(t, err)
	closeStore()

	b := newTab(t, f)
	require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 800)))
	b.open("/customers/cus_001")
	assert.Equal(t, "true", b.eval(`(() => { const t = document.getElementById("usage-api_calls"); const r = t && t.getBoundingClientRect(); return String(!!t && t.offsetParent !== null && r.width > 0 && r.height > 0); })()`))
	assert.Contains(t, b.eval(`document.getElementById("usage-api_calls").innerText`), "20000")
	assert.Empty(t, b.layoutProblems())
}
