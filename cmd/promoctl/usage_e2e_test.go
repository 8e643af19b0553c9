package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
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

	usagestore "github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/usagetest"
	"github.com/promoctl/promoctl/internal/redistest"
	"github.com/promoctl/promoctl/internal/sidecartest"
)

// These tests run real `promoctl serve` processes and, for the shared
// store, a real redis-server: usage is enforced by the binary operators
// run, over HTTP, with the faults operators meet (a store or a sidecar
// killed mid-load).

// meteredRepo writes a config repo whose customers hold random layouts of
// allowance buckets for api_calls: a plan (monthly or daily), additive
// promotions of several resets, and sometimes an override that suspends
// the plan. Allowances are small so that load runs them out.
func meteredRepo(t *testing.T, seed uint64, customers int, policy string) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("features/api_calls.yaml", "kind: Feature\nkey: api_calls\nname: API calls\ntype: metered\nusage:\n  overage: block\n  on_store_failure: "+policy+"\n")
	write("plans/monthly.yaml", fmt.Sprintf("kind: Plan\nkey: monthly\nname: Monthly\nentitlements:\n  - {feature: api_calls, allowance: %d, reset: monthly}\n", 20+r.IntN(30)))
	write("plans/daily.yaml", fmt.Sprintf("kind: Plan\nkey: daily\nname: Daily\nentitlements:\n  - {feature: api_calls, allowance: %d, reset: daily}\n", 10+r.IntN(20)))
	var dirList strings.Builder
	dirList.WriteString("kind: Customers\ncustomers:\n")
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = fmt.Sprintf("cus_%02d", i)
		plan := []string{"monthly", "daily"}[r.IntN(2)]
		fmt.Fprintf(&dirList, "  - {id: %s, plan: %s}\n", ids[i], plan)
	}
	write("customers/all.yaml", dirList.String())
	grantedAt := time.Now().UTC().AddDate(0, 0, -3).Truncate(time.Hour).Format(time.RFC3339)
	for p, spec := range []struct{ mode, reset string }{{"additive", "weekly"}, {"additive", "never"}, {"additive", "daily"}, {"override", "daily"}} {
		var grants strings.Builder
		for _, id := range ids {
			if r.IntN(3) == 0 {
				fmt.Fprintf(&grants, "    - {id: %s, state: granted, granted_at: %s}\n", id, grantedAt)
			}
		}
		if grants.Len() == 0 {
			continue
		}
		write(fmt.Sprintf("promotions/p%d.yaml", p), fmt.Sprintf(`kind: PromotionalEntitlement
id: p%d
name: P%d
feature: api_calls
feature_type: metered
metered: {mode: %s, allowance: %d, reset: %s}
is_applied: true
grants:
  customers:
%s`, p, p, spec.mode, 5+r.IntN(30), spec.reset, grants.String()))
	}
	return dir
}

// usageClient posts to one sidecar.
type usageClient struct {
	base string
	http *http.Client
}

func newUsageClient(base string) *usageClient {
	return &usageClient{base: base, http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// consume posts one consume; ok is false when no answer came (an error or
// a status other than 200), the request then to be retried.
func (c *usageClient) consume(req meter.ConsumeRequest) (meter.Answer, int, bool) {
	body, _ := json.Marshal(req)
	resp, err := c.http.Post(c.base+"/v1/usage/consume", "application/json", bytes.NewReader(body))
	if err != nil {
		return meter.Answer{}, 0, false
	}
	defer resp.Body.Close()
	var a meter.Answer
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&a) != nil {
		return meter.Answer{}, resp.StatusCode, false
	}
	return a, resp.StatusCode, true
}

// usage reads a customer's buckets. A 503 is a store call that failed or
// timed out (on a loaded machine the default 25 ms store timeout is
// sometimes exceeded); the read is retried, as a client told Retry-After
// does, for a few seconds.
func (c *usageClient) usage(t *testing.T, customer string) meter.UsageAnswer {
	t.Helper()
	giveUp := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.http.Get(c.base + "/v1/customers/" + customer + "/usage/api_calls")
		require.NoError(t, err)
		if resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(giveUp) {
			resp.Body.Close()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var a meter.UsageAnswer
		require.Equal(t, http.StatusOK, resp.StatusCode)
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		require.NoError(t, err)
		return a
	}
}

// layoutOf reads a customer's buckets from a sidecar as the model sees
// them: counter ids, allowances and periods.
func layoutOf(u meter.UsageAnswer) []usagestore.Bucket {
	var out []usagestore.Bucket
	for _, b := range u.Buckets {
		id := b.Source
		if b.Kind == "plan" {
			id = "plan:" + b.Reset
		}
		ub := usagestore.Bucket{ID: id, Allowance: b.Allowance, Unlimited: b.Unlimited, Order: b.Order, Suspended: b.State == meter.StateSuspended}
		if b.PeriodStart != nil {
			ub.PeriodStart = *b.PeriodStart
		}
		if b.PeriodEnd != nil {
			ub.PeriodEnd = *b.PeriodEnd
		}
		out = append(out, ub)
	}
	return out
}

// consumeLoad has k clients, spread over the sidecars, consume random
// amounts for random customers until each made perClient consumes; a
// request without an answer is retried with the same key until answered,
// and a quarter of the answered ones are sent again. stop, when closed,
// ends the load early.
func consumeLoad(t *testing.T, clients []*usageClient, customers []string, k, perClient int, seed uint64) []usagetest.Op {
	var (
		mu  sync.Mutex
		ops []usagetest.Op
		wg  sync.WaitGroup
	)
	for client := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(client)))
			c := clients[client%len(clients)]
			for i := range perClient {
				req := meter.ConsumeRequest{Customer: customers[r.IntN(len(customers))], Feature: "api_calls",
					Amount: int64(1 + r.IntN(4)), IdempotencyKey: fmt.Sprintf("c%d-%d", client, i)}
				sends := 1
				if r.IntN(4) == 0 {
					sends = 2
				}
				for range sends {
					op := usagetest.Op{Client: client, Customer: req.Customer, Key: req.IdempotencyKey, Amount: req.Amount, Call: time.Now()}
					var a meter.Answer
					giveUp := time.Now().Add(30 * time.Second)
					for {
						var ok bool
						var status int
						if a, status, ok = c.consume(req); ok {
							break
						}
						if time.Now().After(giveUp) {
							t.Errorf("consume %s got no answer in 30 s (last status %d)", req.IdempotencyKey, status)
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
					op.Return = time.Now()
					op.Allowed, op.Duplicate = a.Allowed, a.Outcome == string(usagestore.OutcomeDuplicate)
					op.From = map[string]int64{}
					for _, p := range a.From {
						op.From[p.Bucket] += p.Amount
					}
					mu.Lock()
					ops = append(ops, op)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return ops
}

// acknowledged sums, per customer and bucket, what each key's first
// allowed answer took.
func acknowledged(ops []usagetest.Op) map[string]map[string]int64 {
	firsts := map[string]usagetest.Op{}
	for _, op := range ops {
		k := op.Customer + "|" + op.Key
		if prev, ok := firsts[k]; op.Allowed && (!ok || op.Call.Before(prev.Call)) {
			firsts[k] = op
		}
	}
	out := map[string]map[string]int64{}
	for _, op := range firsts {
		if out[op.Customer] == nil {
			out[op.Customer] = map[string]int64{}
		}
		for b, n := range op.From {
			out[op.Customer][b] += n
		}
	}
	return out
}

// checkCounters holds that every bucket's counter equals what was
// acknowledged from it and, unless overage is allowed, stays within its
// allowance.
func checkCounters(t *testing.T, c *usageClient, customers []string, acked map[string]map[string]int64, bounded bool) {
	t.Helper()
	for _, customer := range customers {
		u := c.usage(t, customer)
		for _, b := range layoutOf(u) {
			i := indexOf(u, b)
			used := u.Buckets[i].Used
			require.NotNil(t, used)
			assert.Equal(t, acked[customer][b.ID], *used, "%s %s: the counter equals what was acknowledged", customer, b.ID)
			if bounded && !b.Unlimited {
				assert.LessOrEqual(t, *used, b.Allowance, "%s %s: never more than the allowance", customer, b.ID)
			}
		}
	}
}

func indexOf(u meter.UsageAnswer, b usagestore.Bucket) int {
	for i, l := range layoutOf(u) {
		if l.ID == b.ID {
			return i
		}
	}
	return -1
}

func meteredCustomers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cus_%02d", i)
	}
	return out
}

func TestUsageE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs sidecars and redis-server")
	}
	bin := sidecartest.Build(t)
	t.Run("zero overspend across sidecars on one redis", func(t *testing.T) { testZeroOverspend(t, bin) })
	t.Run("redis killed mid-load", func(t *testing.T) { testRedisKilled(t, bin) })
	t.Run("sidecar killed on the embedded store", func(t *testing.T) { testSidecarKilled(t, bin) })
	t.Run("token required off loopback", func(t *testing.T) { testUsageNeedsToken(t, bin) })
}

// K = 64 concurrent clients across M = 4 sidecars sharing one redis-server,
// random bucket layouts, resent and retried requests: the history is
// linearizable (porcupine), no bucket gives more than its allowance, the
// counters equal what was acknowledged, and each key takes effect once.
func testZeroOverspend(t *testing.T, bin string) {
	srv := redistest.Start(t)
	const customers = 8
	repo := meteredRepo(t, 21, customers, "deny")
	var clients []*usageClient
	for range 4 {
		// A generous store timeout: this test is about atomicity, and on
		// a loaded machine 25 ms timeouts would only add retries.
		sc := sidecartest.Start(t, bin, repo, "--usage-store", srv.URL(), "--usage-timeout", "1s")
		clients = append(clients, newUsageClient(sc.URL))
	}
	ids := meteredCustomers(customers)
	day := time.Now().UTC().Format(time.DateOnly)
	layouts := map[string][]usagestore.Bucket{}
	for _, id := range ids {
		layouts[id] = layoutOf(clients[0].usage(t, id))
	}
	ops := consumeLoad(t, clients, ids, 64, 8, 3)
	if time.Now().UTC().Format(time.DateOnly) != day {
		t.Skip("a UTC day ended during the run: the daily buckets changed under the model")
	}
	usagetest.CheckLinearizable(t, usagetest.History{Buckets: layouts, Overage: usagestore.OverageBlock, Ops: ops}, 2*time.Minute)
	checkCounters(t, clients[1], ids, acknowledged(ops), true)
	denied := 0
	for _, op := range ops {
		if !op.Allowed {
			denied++
		}
	}
	assert.Positive(t, denied, "the load ran allowances out")
}

// redis-server is killed with SIGKILL during load and restarted. Under
// on_store_failure allow every consume is answered, those during the
// outage degraded, and after replay the counters equal what was
// acknowledged. Under deny no consume gets a 2xx during the outage, and
// the counters equal what was acknowledged once the retries are answered.
func testRedisKilled(t *testing.T, bin string) {
	for _, policy := range []string{"allow", "deny"} {
		t.Run(policy, func(t *testing.T) {
			srv := redistest.Start(t)
			const customers = 4
			repo := meteredRepo(t, 5, customers, policy)
			var clients []*usageClient
			for range 2 {
				sc := sidecartest.Start(t, bin, repo, "--usage-store", srv.URL())
				clients = append(clients, newUsageClient(sc.URL))
			}
			ids := meteredCustomers(customers)
			// Large amounts of distinct keys, a few per client, before,
			// during and after the outage.
			var (
				mu           sync.Mutex
				acked        = map[string]meter.Answer{}
				okDuringDown int
				degraded     int
				pending      []meter.ConsumeRequest
			)
			phase := func(name string, down bool) {
				var wg sync.WaitGroup
				for w := range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c := clients[w%len(clients)]
						for i := range 5 {
							req := meter.ConsumeRequest{Customer: ids[(w+i)%len(ids)], Feature: "api_calls", Amount: 1, IdempotencyKey: fmt.Sprintf("%s-%d-%d", name, w, i)}
							a, status, ok := c.consume(req)
							mu.Lock()
							switch {
							case ok && a.Allowed:
								acked[req.Customer+"|"+req.IdempotencyKey] = a
								if down {
									okDuringDown++
								}
								if a.Degraded {
									degraded++
								}
							case ok:
							default:
								if down && status/100 == 2 {
									okDuringDown++
								}
								pending = append(pending, req)
							}
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
			}
			phase("before", false)
			srv.Kill()
			phase("during", true)
			srv.Restart()
			phase("after", false)
			// Clients retry what got no answer (during the outage, or a
			// timeout before or after it) until it is answered.
			require.Eventually(t, func() bool {
				var still []meter.ConsumeRequest
				for _, req := range pending {
					a, _, ok := clients[0].consume(req)
					if !ok {
						still = append(still, req)
						continue
					}
					if a.Allowed {
						acked[req.Customer+"|"+req.IdempotencyKey] = a
					}
				}
				pending = still
				return len(pending) == 0
			}, 30*time.Second, 100*time.Millisecond)
			// Replay drains every sidecar's spool.
			require.Eventually(t, func() bool {
				for _, c := range clients {
					var st struct{ Usage struct{ Spool int } }
					resp, err := c.http.Get(c.base + "/v1/status")
					if err != nil {
						return false
					}
					_ = json.NewDecoder(resp.Body).Decode(&st)
					resp.Body.Close()
					if st.Usage.Spool != 0 {
						return false
					}
				}
				return true
			}, 30*time.Second, 100*time.Millisecond)

			perBucket := map[string]map[string]int64{}
			for k, a := range acked {
				customer, _, _ := strings.Cut(k, "|")
				if perBucket[customer] == nil {
					perBucket[customer] = map[string]int64{}
				}
				for _, p := range a.From {
					perBucket[customer][p.Bucket] += p.Amount
				}
			}
			checkCounters(t, clients[1], ids, perBucket, policy == "deny")
			if policy == "allow" {
				assert.Positive(t, degraded, "consumes during the outage were answered from the allowance")
			} else {
				assert.Zero(t, okDuringDown, "no 2xx while the store is down under deny")
				assert.Zero(t, degraded)
			}
		})
	}
}

// A sidecar on the embedded store is killed with SIGKILL under load; the
// restarted sidecar's counters equal what the first acknowledged.
func testSidecarKilled(t *testing.T, bin string) {
	repo := meteredRepo(t, 9, 2, "deny")
	// One customer with room for the whole load: every acknowledged
	// consume is then exactly one unit in one bucket.
	require.NoError(t, os.WriteFile(filepath.Join(repo, "plans", "monthly.yaml"),
		[]byte("kind: Plan\nkey: monthly\nname: Monthly\nentitlements:\n  - {feature: api_calls, allowance: unlimited, reset: monthly}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "customers", "all.yaml"),
		[]byte("kind: Customers\ncustomers:\n  - {id: cus_00, plan: monthly}\n  - {id: cus_01, plan: monthly}\n"), 0o644))
	require.NoError(t, os.RemoveAll(filepath.Join(repo, "promotions")))
	dataDir := t.TempDir()

	cmd := exec.Command(bin, "serve", "--repo", repo, "--addr", "127.0.0.1:0", "--log-format", "json", "--data-dir", dataDir) // #nosec G204 -- the binary the test built
	addr, _ := sidecartest.Spawn(t, cmd, 30*time.Second)
	c := newUsageClient("http://" + addr)
	require.Eventually(t, func() bool {
		_, _, ok := c.consume(meter.ConsumeRequest{Customer: "cus_00", Feature: "api_calls", Amount: 1, IdempotencyKey: "warm-up"})
		return ok
	}, 30*time.Second, 20*time.Millisecond)

	var (
		mu    sync.Mutex
		acked = 1 // the warm-up
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a, _, ok := c.consume(meter.ConsumeRequest{Customer: "cus_00", Feature: "api_calls", Amount: 1, IdempotencyKey: fmt.Sprintf("w%d-%d", w, i)})
				if ok && a.Allowed {
					mu.Lock()
					acked++
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	close(stop)
	wg.Wait()
	require.Greater(t, acked, 50, "the load ran before the kill")

	sc := sidecartest.Start(t, bin, repo, "--data-dir", dataDir)
	u := newUsageClient(sc.URL).usage(t, "cus_00")
	require.Len(t, u.Buckets, 1)
	require.NotNil(t, u.Buckets[0].Used)
	// A consume the sidecar committed but whose answer the kill cut off is
	// counted and not acknowledged: at most one per client in flight.
	assert.GreaterOrEqual(t, *u.Buckets[0].Used, int64(acked), "every acknowledged consume survived the SIGKILL")
	assert.LessOrEqual(t, *u.Buckets[0].Used, int64(acked+32), "nothing beyond the consumes in flight")
}

// Off loopback without a token, --insecure serves decisions but not usage.
func testUsageNeedsToken(t *testing.T, bin string) {
	repo := meteredRepo(t, 1, 1, "deny")
	cmd := exec.Command(bin, "serve", "--repo", repo, "--addr", "0.0.0.0:0", "--insecure", "--log-format", "json", "--data-dir", t.TempDir()) // #nosec G204 -- the binary the test built
	addr, logs := sidecartest.Spawn(t, cmd, 30*time.Second)
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	_, port, _ := strings.Cut(addr, "]:")
	if port == "" {
		_, port, _ = strings.Cut(addr, ":")
	}
	base := "http://127.0.0.1:" + port
	sidecartest.WaitReady(t, base, 30*time.Second, logs)
	resp, err := http.Post(base+"/v1/usage/consume", "application/json", strings.NewReader(`{"customer":"cus_00","feature":"api_calls","amount":1,"idempotency_key":"k"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "UNAUTHENTICATED", e.Error.Code)
	assert.Contains(t, e.Error.Message, "--token-file")
	ok, err := http.Get(base + "/v1/customers/cus_00/entitlements/api_calls")
	require.NoError(t, err)
	ok.Body.Close()
	assert.Equal(t, http.StatusOK, ok.StatusCode, "decisions are still served")
}
