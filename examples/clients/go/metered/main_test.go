package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/examples/clients/go/internal/clienttest"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/openfeature/usage"
)

const root = "../../../.."

// Three calls a month on the growth plan: the fourth request of cus_002
// is refused with 429 and the time its allowance resets; a retried request
// (same X-Request-Id) is not counted again.
func TestMeteredServiceReturns429WithTheReset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sidecar")
	}
	repo := clienttest.AcmeCopy(t, root)
	plan := filepath.Join(repo, "plans", "growth.yaml")
	raw, err := os.ReadFile(plan)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(plan, []byte(strings.Replace(string(raw), "allowance: 100000", "allowance: 3", 1)), 0o644))
	sc := sidecartest.Start(t, sidecartest.Build(t), repo)
	svc := httptest.NewServer(Handler(usage.NewSidecar(sc.URL, ""), "api_calls"))
	defer svc.Close()

	get := func(requestID string) *http.Response {
		req, err := http.NewRequest("GET", svc.URL+"/api/things", nil)
		require.NoError(t, err)
		req.Header.Set("X-Customer-Id", "cus_002")
		req.Header.Set("X-Request-Id", requestID)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for i := range 3 {
		resp := get(fmt.Sprintf("r%d", i))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, strconv.Itoa(2-i), resp.Header.Get("RateLimit-Remaining"))
	}
	assert.Equal(t, http.StatusOK, get("r2").StatusCode, "a retried request is the same consume")

	resp := get("r3")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	var body struct {
		ResetsAt time.Time `json:"resets_at"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	now := time.Now().UTC()
	assert.Equal(t, time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC), body.ResetsAt, "the growth plan resets on the 1st")
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, time.Until(body.ResetsAt).Seconds(), retry, 5)
}
