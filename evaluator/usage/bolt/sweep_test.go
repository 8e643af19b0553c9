package bolt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// A sweep reads a bounded number of entries per transaction and, across
// them, deletes exactly the expired entries, however they interleave with
// live ones.
func TestSweepInChunksDeletesExactlyTheExpired(t *testing.T) {
	defer func(n int) { sweepChunk = n }(sweepChunk)
	sweepChunk = 3

	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := start
	s, err := Open(t.TempDir(), Options{SweepEvery: -1, IdempotencyTTL: time.Minute, Clock: func() time.Time { return clock }})
	require.NoError(t, err)
	defer s.Close()
	month := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	buckets := []usage.Bucket{{ID: "plan:monthly", Unlimited: true, PeriodStart: month, PeriodEnd: month.AddDate(0, 1, 0), Order: 1}}

	// Ten keys, consumed ten seconds apart, named so that in key order the
	// ones that will have expired alternate with the ones that will not.
	names := []string{"k0", "k2", "k4", "k6", "k8", "k1", "k3", "k5", "k7", "k9"}
	for i, name := range names {
		clock = start.Add(time.Duration(i) * 10 * time.Second)
		_, err := s.Consume(context.Background(), usage.ConsumeRequest{Scope: usage.Scope{Customer: "c", Feature: "f"},
			Key: name, BodyHash: "h", Amount: 1, Buckets: buckets})
		require.NoError(t, err)
	}
	// One minute after the fifth consume: the first five have expired,
	// the even ones.
	clock = start.Add(time.Minute + 45*time.Second)

	reads := 0
	var from []byte
	for {
		_, next, err := s.sweepFrom(swept[1], from)
		require.NoError(t, err)
		reads++
		if next == nil {
			break
		}
		from = next
	}
	assert.Equal(t, 4, reads, "ten keys in transactions of three")

	var left []string
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(records).ForEach(func(k, _ []byte) error {
			left = append(left, fmt.Sprintf("%q", k[len(k)-2:]))
			return nil
		})
	}))
	assert.Equal(t, []string{`"k1"`, `"k3"`, `"k5"`, `"k7"`, `"k9"`}, left)

	n, err := s.Sweep()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing else has expired; the counter lives a period and the retention")
}
