package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/promotions"
)

// Concurrent consumes through the handler (run with -race): each answered
// once, the balance never overspent, and the metrics and status count
// them.
func TestUsageRoutesUnderConcurrency(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS("../../examples/acme")))
	st := store.New(repo.NewLoader(root, promotions.Limits{}, nil), nil)
	require.Equal(t, store.Swapped, st.Reload(context.Background()))
	embedded, err := bolt.Open(t.TempDir(), bolt.Options{SweepEvery: -1})
	require.NoError(t, err)
	defer embedded.Close()
	m := meter.New(meter.SnapshotSource(st.Snapshot), embedded, meter.Options{})
	defer m.Close()
	ts := httptest.NewServer(New(Config{Source: st, Usage: m}))
	defer ts.Close()

	// cus_001 holds 3 seats (starter, never reset); 32 clients ask for one
	// each, every request sent twice.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"customer":"cus_001","feature":"seats","amount":1,"idempotency_key":"seat-%d"}`, w)
			for send := range 2 {
				resp, err := http.Post(ts.URL+"/v1/usage/consume", "application/json", strings.NewReader(body))
				if !assert.NoError(t, err) {
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
				if send == 0 && strings.Contains(string(raw), `"allowed":true`) {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 3, allowed, "three seats, whatever the concurrency")

	resp, err := http.Get(ts.URL + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(metrics), `promoctl_usage_consumes_total{outcome="consumed"} 3`)
	assert.Contains(t, string(metrics), `promoctl_usage_consumes_total{outcome="denied"}`)
	assert.Contains(t, string(metrics), `promoctl_usage_store_duration_seconds_count{op="consume",result="ok"}`)

	resp, err = http.Get(ts.URL + "/v1/status")
	require.NoError(t, err)
	status, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(status), `"usage":{"store":"embedded","healthy":true,"spool":0}`)
}
