package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"
)

func openGroup(t *testing.T) *groupCommit {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}))
	return &groupCommit{db: db}
}

func put(key string) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(key), []byte("v")) }
}

// waitPending waits until n writes queue behind the commit in progress.
func (g *groupCommit) waitPending(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.pending) == n
	}, 10*time.Second, time.Millisecond)
}

// Writes that arrive while a commit is in progress share the next one.
func TestGroupCommitSharesTheNextCommit(t *testing.T) {
	g := openGroup(t)
	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.update(func(tx *bbolt.Tx) error {
			close(entered)
			<-release
			return put("first")(tx)
		})
	}()
	<-entered

	const waiting = 63
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		txs = map[int]int{}
	)
	for i := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, g.update(func(tx *bbolt.Tx) error {
				mu.Lock()
				txs[tx.ID()]++
				mu.Unlock()
				return put("k" + strconv.Itoa(i))(tx)
			}))
		}()
	}
	g.waitPending(t, waiting)
	close(release)
	require.NoError(t, <-first)
	wg.Wait()

	require.Len(t, txs, 1, "the 63 waiting writes share one commit")
	for _, n := range txs {
		assert.Equal(t, waiting, n)
	}
	require.NoError(t, g.db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, waiting+1, tx.Bucket([]byte("b")).Stats().KeyN, "every write is committed")
		return nil
	}))
}

// A write that fails (or panics) gets its own error; the writes that shared
// its transaction are committed without it.
func TestGroupCommitIsolatesAFailedWrite(t *testing.T) {
	for name, bad := range map[string]func(*bbolt.Tx) error{
		"error": func(*bbolt.Tx) error { return errors.New("disk says no") },
		"panic": func(*bbolt.Tx) error { panic("bug") },
	} {
		t.Run(name, func(t *testing.T) {
			g := openGroup(t)
			entered, release := make(chan struct{}), make(chan struct{})
			go func() {
				_ = g.update(func(tx *bbolt.Tx) error {
					select {
					case <-entered:
					default:
						close(entered)
					}
					<-release
					return nil
				})
			}()
			<-entered
			results := make(chan error, 3)
			go func() { results <- g.update(put("a")) }()
			go func() {
				if err := g.update(bad); err == nil {
					results <- errors.New("the bad write reported no error")
					return
				}
				results <- nil
			}()
			go func() { results <- g.update(put("c")) }()
			g.waitPending(t, 3)
			close(release)
			for range 3 {
				require.NoError(t, <-results)
			}
			require.NoError(t, g.db.View(func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte("b"))
				assert.NotNil(t, b.Get([]byte("a")))
				assert.NotNil(t, b.Get([]byte("c")))
				return nil
			}))
		})
	}
}
