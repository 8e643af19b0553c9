package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSwapsUnderLoad drives the sidecar with concurrent clients while the
// repo changes every way a deployment changes it: ConfigMap-style ..data
// swaps inside the root, swaps of the root symlink itself (git-sync), a
// broken revision, and a revision without the promotion file and one with
// it again. Every answer must be a 200 from one whole revision — a revision
// always gives the same allowance, and only allowances that some written
// revision defines ever appear — and the last answer matches the last files.
func testSwapsUnderLoad(t *testing.T, bin string) {
	base := t.TempDir()
	seq := 0
	// newRevision lays out a ConfigMap-style directory tree under dir with
	// the boost allowance given ("" leaves the promotion out).
	writeData := func(dir, allowance string) string {
		seq++
		data := fmt.Sprintf("..2026_01_01_00_00_%02d.%d", seq%60, seq)
		copyAcme(t, filepath.Join(dir, data))
		switch allowance {
		case "":
			require.NoError(t, os.Remove(filepath.Join(dir, data, boostPath)))
		default:
			writeBoost(t, filepath.Join(dir, data), allowance)
		}
		return data
	}
	swapData := func(dir, allowance string) {
		data := writeData(dir, allowance)
		tmp := filepath.Join(dir, "..data_tmp")
		require.NoError(t, os.Symlink(data, tmp))
		require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data")))
	}
	newRoot := func(allowance string) string {
		seq++
		name := fmt.Sprintf("rev%d", seq)
		dir := filepath.Join(base, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		swapData(dir, allowance)
		for _, sub := range []string{"features", "plans", "customers", "promotions"} {
			require.NoError(t, os.Symlink(filepath.Join("..data", sub), filepath.Join(dir, sub)))
		}
		return name
	}
	link := filepath.Join(base, "repo")
	require.NoError(t, os.Symlink(newRoot("50000"), link))
	swapRoot := func(allowance string) {
		name := newRoot(allowance)
		tmp := filepath.Join(base, ".repo-tmp")
		require.NoError(t, os.Symlink(name, tmp))
		require.NoError(t, os.Rename(tmp, link))
	}

	sc := startSidecar(t, bin, link, "--debounce", "50ms")
	sc.waitReady(t)

	// What answers may say: the plan's 10,000 plus a boost that some
	// valid revision had, or the plan alone without the promotion.
	var allowedMu sync.Mutex
	allowed := map[int64]bool{60000: true, 10000: true}
	allow := func(boost int64) {
		allowedMu.Lock()
		allowed[10000+boost] = true
		allowedMu.Unlock()
	}

	var stop atomic.Bool
	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	var seenMu sync.Mutex
	byRevision := map[string]int64{}
	var wg sync.WaitGroup
	fail := func(format string, args ...any) {
		failures.Add(1)
		firstFailure.CompareAndSwap(nil, fmt.Sprintf(format, args...))
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r, err := sc.request("GET", boostQuery, "")
				requests.Add(1)
				if err != nil || r.code != http.StatusOK {
					fail("err=%v code=%d body=%s", err, r.code, r.body)
					continue
				}
				var d struct {
					Allowance int64
					Revision  string
				}
				if err := json.Unmarshal(r.body, &d); err != nil {
					fail("decode %s: %v", r.body, err)
					continue
				}
				seenMu.Lock()
				if prev, ok := byRevision[d.Revision]; ok && prev != d.Allowance {
					fail("revision %s answered %d and %d", d.Revision, prev, d.Allowance)
				}
				byRevision[d.Revision] = d.Allowance
				seenMu.Unlock()
				allowedMu.Lock()
				ok := allowed[d.Allowance]
				allowedMu.Unlock()
				if !ok {
					fail("allowance %d belongs to no written revision", d.Allowance)
				}
			}
		}()
	}

	root := func() string {
		target, err := os.Readlink(link)
		require.NoError(t, err)
		return filepath.Join(base, target)
	}
	for step := range 24 {
		boost := int64(51000 + step)
		switch step % 6 {
		case 0, 3:
			allow(boost)
			swapData(root(), fmt.Sprint(boost))
		case 1:
			allow(boost)
			swapRoot(fmt.Sprint(boost))
		case 2:
			swapData(root(), "-1") // broken: refused, the last good one serves
		case 4:
			swapData(root(), "") // the promotion deleted
		case 5:
			allow(boost)
			swapRoot(fmt.Sprint(boost)) // and re-created in a new root
		}
		time.Sleep(time.Duration(20+step*3) * time.Millisecond)
	}
	allow(59999)
	swapRoot("59999")
	sc.waitAllowance(t, boostQuery, 69999, "the last revision is served")

	stop.Store(true)
	wg.Wait()
	ok, failed := sc.reloads(t)
	t.Logf("%d requests, %d revisions seen, %d reloads ok, %d failed", requests.Load(), len(byRevision), ok, failed)
	assert.Positive(t, requests.Load())
	assert.Positive(t, failed, "the broken revisions were loaded and refused")
	assert.Zero(t, failures.Load(), "every answer from one whole revision (first problem: %v)", firstFailure.Load())
}
