package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/usagetest"
)

func open(t *testing.T, dir string, opts bolt.Options) *bolt.Store {
	t.Helper()
	if opts.SweepEvery == 0 {
		opts.SweepEvery = -1
	}
	s, err := bolt.Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for name, check := range map[string]func(*testing.T, usage.Store){
		"idempotency": usagetest.Idempotency, "stale": usagetest.Stale, "replay": usagetest.Replay,
		"replay of an applied consume": usagetest.ReplayOfAnAppliedConsume,
	} {
		t.Run(name, func(t *testing.T) {
			check(t, open(t, t.TempDir(), bolt.Options{}))
		})
	}
}

// clock is a store clock the test moves.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.now.Load()).UTC() }
func (c *clock) Set(t time.Time)     { c.now.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration) { c.now.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := &clock{}; c.Set(t); return c }
func (c *clock) opts() bolt.Options {
	return bolt.Options{Clock: c.Now, Retention: time.Hour, IdempotencyTTL: time.Minute}
}
func at(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }

var ctx = context.Background()

func TestPeriodBoundary(t *testing.T) {
	c := newClock(at("2026-04-25T23:59:59Z"))
	s := open(t, t.TempDir(), c.opts())
	today := usagetest.DayBuckets(c.Now())
	res, err := s.Consume(ctx, usagetest.Consume("k1", 10, today))
	require.NoError(t, err)
	require.Equal(t, usage.OutcomeConsumed, res.Outcome)

	c.Add(time.Second)
	_, err = s.Consume(ctx, usagetest.Consume("k2", 1, today))
	var stale *usage.StaleError
	require.ErrorAs(t, err, &stale, "at midnight yesterday's buckets are stale")
	assert.Equal(t, at("2026-04-26T00:00:00Z"), stale.Now)

	tomorrow := usagetest.DayBuckets(stale.Now)
	res, err = s.Consume(ctx, usagetest.Consume("k2", 10, tomorrow))
	require.NoError(t, err)
	assert.Equal(t, usage.OutcomeConsumed, res.Outcome, "the new day has its full allowance")
	assert.Equal(t, []int64{10, 0, 0}, res.Used)

	rel, err := s.Release(ctx, usage.ReleaseRequest{Scope: usagetest.Scope, Key: "k1"})
	require.NoError(t, err)
	assert.Equal(t, usage.ReleasePeriodClosed, rel.Outcome, "yesterday's day is closed")
}

func TestReleaseGivesBackOnlyOpenPeriods(t *testing.T) {
	c := newClock(at("2026-04-25T12:00:00Z"))
	opts := c.opts()
	opts.IdempotencyTTL, opts.Retention = 48*time.Hour, 48*time.Hour
	s := open(t, t.TempDir(), opts)
	b := usagetest.DayBuckets(c.Now())
	res, err := s.Consume(ctx, usagetest.Consume("k", 13, b))
	require.NoError(t, err)
	require.Len(t, res.Takes, 2, "10 from the day, 3 from the month")

	c.Set(at("2026-04-26T08:00:00Z"))
	rel, err := s.Release(ctx, usage.ReleaseRequest{Scope: usagetest.Scope, Key: "k"})
	require.NoError(t, err)
	assert.Equal(t, usage.ReleaseReleased, rel.Outcome)
	assert.Equal(t, int64(3), rel.Amount, "the closed day's 10 are forfeited with it")
	assert.Equal(t, res.Takes[1:], rel.To)
	used, err := s.Used(ctx, usagetest.Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{10, 0, 0}, used)
}

func TestExpiryAndSweep(t *testing.T) {
	c := newClock(at("2026-04-25T12:00:00Z"))
	s := open(t, t.TempDir(), c.opts())
	b := usagetest.DayBuckets(c.Now())
	_, err := s.Consume(ctx, usagetest.Consume("k", 3, b))
	require.NoError(t, err)

	c.Add(2 * time.Minute)
	res, err := s.Consume(ctx, usagetest.Consume("k", 4, b))
	require.NoError(t, err, "past the idempotency TTL the key is free again")
	assert.Equal(t, usage.OutcomeConsumed, res.Outcome)
	used, err := s.Used(ctx, usagetest.Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{7, 0, 0}, used)

	c.Set(b[0].PeriodEnd.Add(time.Hour))
	used, err = s.Used(ctx, usagetest.Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{0, 0, 0}, used, "a counter is kept for the retention after its period, then gone")
	n, err := s.Sweep()
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the expired counter and key are deleted")
}

func TestSpool(t *testing.T) {
	s := open(t, t.TempDir(), bolt.Options{})
	sc := usage.Scope{Namespace: "promoctl", Customer: "cus_1", Feature: "api_calls"}
	rec := usage.Recorded{BodyHash: "h", Outcome: usage.OutcomeConsumed, Amount: 2, At: at("2026-04-25T12:00:00Z"),
		Takes: []usage.Take{{Bucket: "plan:monthly", PeriodStart: at("2026-04-01T00:00:00Z"), PeriodEnd: at("2026-05-01T00:00:00Z"), Amount: 2}}}
	require.NoError(t, s.Spool(sc, "k1", rec))
	other := rec
	other.Amount = 99
	require.NoError(t, s.Spool(sc, "k1", other), "a key spooled twice keeps its first record")
	require.NoError(t, s.Spool(sc, "k2", rec))
	assert.Equal(t, 2, s.SpoolLen())
	got, ok, err := s.Spooled(sc, "k1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, rec, got)
	pending, err := s.Pending(10)
	require.NoError(t, err)
	assert.Equal(t, []usage.Spooled{{Scope: sc, Key: "k1", Record: rec}, {Scope: sc, Key: "k2", Record: rec}}, pending)
	require.NoError(t, s.Unspool(sc, "k1"))
	assert.Equal(t, 1, s.SpoolLen())
}

// Concurrent consumers never take more than the buckets allow, and each
// acknowledged consume is counted.
func TestConcurrentConsumesNeverOverspend(t *testing.T) {
	s := open(t, t.TempDir(), bolt.Options{})
	now, _ := s.Now(ctx)
	b := usagetest.DayBuckets(now)
	var (
		wg    sync.WaitGroup
		acked atomic.Int64
	)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				res, err := s.Consume(ctx, usagetest.Consume(fmt.Sprintf("w%d-%d", w, i), 1, b))
				if err == nil && res.Allowed {
					acked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(15), acked.Load(), "10 daily + 5 monthly")
	used, err := s.Used(ctx, usagetest.Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{10, 5, 0}, used)
}

// A process killed with SIGKILL mid-load loses no acknowledged consume: the
// child prints each key once Consume returned, the parent kills it and
// reopens the file.
func TestKilledMidLoadLosesNoAcknowledgedConsume(t *testing.T) {
	if os.Getenv("USAGE_BOLT_CHILD") != "" {
		t.Skip("runs as the parent only")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildConsumer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "USAGE_BOLT_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := strconv.Atoi(sc.Text()); err == nil {
			acked++
		}
		if acked == 300 {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			break
		}
	}
	for sc.Scan() {
		if _, err := strconv.Atoi(sc.Text()); err == nil {
			acked++
		}
	}
	_ = cmd.Wait()
	require.GreaterOrEqual(t, acked, 300)

	s := open(t, dir, bolt.Options{})
	b := []usage.Bucket{{ID: "plan:never", Allowance: 1 << 40}}
	used, err := s.Used(ctx, usagetest.Scope, b)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, used[0], int64(acked), "every acknowledged consume survived the SIGKILL")
	assert.LessOrEqual(t, used[0], int64(acked)+16, "at most the in-flight consumes were added unacknowledged")
}

func TestChildConsumer(t *testing.T) {
	dir := os.Getenv("USAGE_BOLT_CHILD")
	if dir == "" {
		t.Skip("the child of TestKilledMidLoadLosesNoAcknowledgedConsume")
	}
	s, err := bolt.Open(dir, bolt.Options{SweepEvery: -1})
	require.NoError(t, err)
	b := []usage.Bucket{{ID: "plan:never", Allowance: 1 << 40}}
	var (
		mu sync.Mutex
		n  atomic.Int64
		wg sync.WaitGroup
	)
	w := bufio.NewWriter(os.Stdout)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := n.Add(1)
				res, err := s.Consume(ctx, usagetest.Consume(strconv.FormatInt(i, 10), 1, b))
				if err != nil || !res.Allowed {
					return
				}
				mu.Lock()
				fmt.Fprintln(w, i)
				_ = w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestLazyOpensOnFirstUseAndRetries(t *testing.T) {
	dir := t.TempDir()
	first := bolt.NewLazy(dir, bolt.Options{SweepEvery: -1})
	_, err := os.Stat(dir + "/" + bolt.FileName)
	require.True(t, os.IsNotExist(err), "nothing is opened before the first use")
	now, _ := first.Now(ctx)
	b := usagetest.DayBuckets(now)
	_, err = first.Consume(ctx, usagetest.Consume("k", 1, b))
	require.NoError(t, err)

	second := bolt.NewLazy(dir, bolt.Options{SweepEvery: -1})
	_, err = second.Consume(ctx, usagetest.Consume("k2", 1, b))
	require.ErrorIs(t, err, usage.ErrUnavailable)
	assert.ErrorIs(t, err, bolt.ErrLocked)

	require.NoError(t, first.Close())
	_, err = second.Consume(ctx, usagetest.Consume("k2", 1, b))
	require.ErrorIs(t, err, usage.ErrUnavailable, "the open is not tried again within a second")
	require.Eventually(t, func() bool {
		_, err := second.Consume(ctx, usagetest.Consume("k2", 1, b))
		return err == nil
	}, 5*time.Second, 100*time.Millisecond)
	used, err := second.Used(ctx, usagetest.Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 0, 0}, used)
	require.NoError(t, second.Close())
}
