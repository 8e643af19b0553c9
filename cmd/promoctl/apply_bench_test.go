package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkGrant100k grants one promotion to 100k customers listed in a
// file, end to end: load and validate the repo (100k customers), plan the
// edits, validate the result in memory, write atomically.
func BenchmarkGrant100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(b, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(b, os.WriteFile(path, []byte(content), 0o644))
	}
	write("features/api_calls.yaml", "kind: Feature\nkey: api_calls\nname: API calls\ntype: metered\n")
	write("plans/starter.yaml", "kind: Plan\nkey: starter\nname: Starter\nentitlements:\n  - feature: api_calls\n    allowance: 1000\n    reset: monthly\n")
	var customers, ids strings.Builder
	customers.WriteString("kind: Customers\ncustomers:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&customers, "  - id: cus_%06d\n    name: Customer %d\n    email: c%d@example.com\n    plan: starter\n", i, i, i)
		fmt.Fprintf(&ids, "cus_%06d\n", i)
	}
	write("customers/all.yaml", customers.String())
	promo := "# Bulk campaign.\nkind: PromotionalEntitlement\nid: bulk\nname: Bulk\nfeature: api_calls\nfeature_type: metered\n" +
		"window:\n  start: 2026-01-01T00:00:00Z\nmetered:\n  mode: additive\n  allowance: 100\n  reset: monthly\nis_applied: false\n"
	idsFile := filepath.Join(b.TempDir(), "ids.txt")
	require.NoError(b, os.WriteFile(idsFile, []byte(ids.String()), 0o644))

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		write("promotions/bulk.yaml", promo)
		b.StartTimer()
		code := run([]string{"grant", "bulk", "--repo", dir, "--customers-file", idsFile, "--at", "2026-02-01T00:00:00Z"},
			strings.NewReader(""), io.Discard, os.Stderr)
		require.Equal(b, 0, code)
	}
	b.StopTimer()
	out, err := os.ReadFile(filepath.Join(dir, "promotions", "bulk.yaml"))
	require.NoError(b, err)
	require.Equal(b, n, strings.Count(string(out), "state: granted"))
}
