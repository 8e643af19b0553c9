package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/promotions"
)

// These tests run the real binary as separate processes: a grant killed
// with SIGKILL part way, and grants racing each other on one repo.

const bulkPromotion = `# Bulk campaign: thousands of customers from a CRM export.
kind: PromotionalEntitlement
id: bulk
name: Bulk campaign
feature: sso
feature_type: boolean
is_applied: false
`

// bulkRepo writes a repo without a customer directory (so any id may be
// granted) holding one feature and the promotion "bulk".
func bulkRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"features/sso.yaml":    "kind: Feature\nkey: sso\nname: SSO\ntype: boolean\n",
		"plans/starter.yaml":   "kind: Plan\nkey: starter\nname: Starter\nentitlements:\n  - feature: sso\n",
		"promotions/bulk.yaml": bulkPromotion,
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

func customersFile(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cus_%06d\n", i)
	}
	path := filepath.Join(t.TempDir(), "customers.txt")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// TestGrantKilledMidWay kills `promoctl grant` of 20,000 customers with
// SIGKILL at random moments, from just after it starts to after it
// usually finishes. Every time, the promotion file must hold the old or
// the new content — never a mix or a truncated file — the repo must still
// load, no file the loader reads may have appeared, and the next grant must
// not be blocked by the dead one's lock.
func TestGrantKilledMidWay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it 20 times")
	}
	bin := sidecartest.Build(t)
	repo := bulkRepo(t)
	ids := customersFile(t, 20_000)
	target := filepath.Join(repo, "promotions", "bulk.yaml")
	old := []byte(bulkPromotion)
	args := []string{"grant", "bulk", "--repo", repo, "--customers-file", ids, "--at", "2026-05-01T00:00:00Z"}

	// One run to completion gives the new content and how long a run takes.
	start := time.Now()
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	full := time.Since(start)
	want, err := os.ReadFile(target)
	require.NoError(t, err)
	require.Contains(t, string(want), "cus_019999")
	filesBefore := configFiles(t, repo)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	maxDelay := max(500*time.Millisecond, full+full/5)
	const iterations = 20
	var sawOld, sawNew int
	for i := 0; i < iterations; i++ {
		require.NoError(t, os.WriteFile(target, old, 0o644))
		delay := 5*time.Millisecond + time.Duration(rng.Int64N(int64(maxDelay)))
		cmd := exec.Command(bin, args...)
		require.NoError(t, cmd.Start())
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()

		got, err := os.ReadFile(target)
		require.NoError(t, err)
		switch {
		case bytes.Equal(got, old):
			sawOld++
		case bytes.Equal(got, want):
			sawNew++
		default:
			t.Fatalf("kill after %s left a file that is neither the old nor the new content (%d bytes)", delay, len(got))
		}
		assert.Equal(t, filesBefore, configFiles(t, repo), "kill after %s: no new file for the loader", delay)
		res, err := compiler.Load(os.DirFS(repo), compiler.Options{})
		require.NoError(t, err)
		require.True(t, res.OK(), "kill after %s: the repo still loads: %v", delay, res.Diagnostics)
	}
	leftovers, err := filepath.Glob(filepath.Join(repo, "promotions", ".bulk.yaml.tmp-*"))
	require.NoError(t, err)
	t.Logf("%d kills (delays 5ms..%s, an unkilled run takes %s): %d left the old content, %d the new, 0 anything else; %d temporary file(s) left, all dot files the loader skips",
		iterations, maxDelay.Round(time.Millisecond), full.Round(time.Millisecond), sawOld, sawNew, len(leftovers))

	// The killed processes held the lock; the kernel released it.
	require.NoError(t, os.WriteFile(target, old, 0o644))
	out, err = exec.Command(bin, append(args, "--lock-timeout", "2s")...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func configFiles(t *testing.T, repo string) []string {
	t.Helper()
	files, err := compiler.ConfigFiles(os.DirFS(repo))
	require.NoError(t, err)
	return files
}

// TestConcurrentGrantsKeepEveryChange runs grants of different customers
// at once on one repo: each waits for the repo lock in turn, so every one
// of them succeeds and the file ends up with every customer.
func TestConcurrentGrantsKeepEveryChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := sidecartest.Build(t)
	repo := bulkRepo(t)
	const workers = 8
	var wg sync.WaitGroup
	outputs := make([][]byte, workers)
	errs := make([]error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(bin, "grant", "bulk", "--repo", repo, "--customers", fmt.Sprintf("cus_p%d", i),
				"--at", "2026-05-01T00:00:00Z", "--lock-timeout", "60s")
			outputs[i], errs[i] = cmd.CombinedOutput()
		}(i)
	}
	wg.Wait()
	for i := 0; i < workers; i++ {
		require.NoError(t, errs[i], "grant %d: %s", i, outputs[i])
		assert.Equal(t, "grant bulk: granted 1\n", string(outputs[i]))
	}
	res, err := compiler.Load(os.DirFS(repo), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Diagnostics)
	granted := map[string]bool{}
	for _, g := range res.Model.Promotions["bulk"].Grants.Customers {
		granted[g.ID] = g.State == promotions.StateGranted
	}
	for i := 0; i < workers; i++ {
		assert.True(t, granted[fmt.Sprintf("cus_p%d", i)], "cus_p%d's grant was lost", i)
	}
	assert.Len(t, granted, workers)
}

// TestGrantWaitsForTheLockThenGivesUp: while another process holds the
// repo lock, grant waits --lock-timeout, then exits 1 with a clear error
// and writes nothing.
func TestGrantWaitsForTheLockThenGivesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := sidecartest.Build(t)
	repo := bulkRepo(t)
	lock, err := fsutil.LockRepo(repo, time.Second)
	require.NoError(t, err)
	defer lock.Unlock()

	cmd := exec.Command(bin, "grant", "bulk", "--repo", repo, "--customers", "cus_1", "--lock-timeout", "200ms")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "grant must fail: %v", err)
	assert.Equal(t, exitValidation, exit.ExitCode())
	assert.Contains(t, stderr.String(), "refused, nothing written: another promoctl command is editing this repo")
	assert.Contains(t, stderr.String(), fmt.Sprintf("held by process %d", os.Getpid()))
	assert.Contains(t, stderr.String(), "try again when it is done, or raise --lock-timeout")
	got, err := os.ReadFile(filepath.Join(repo, "promotions", "bulk.yaml"))
	require.NoError(t, err)
	assert.Equal(t, bulkPromotion, string(got))

	// A dry run takes no lock.
	out, err := exec.Command(bin, "grant", "bulk", "--repo", repo, "--customers", "cus_1", "--dry-run", "--lock-timeout", "200ms").CombinedOutput()
	require.NoError(t, err, "%s", out)
}
