package bolt

import (
	"errors"
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many writes one commit carries, so that a burst
// cannot make a single transaction (and every caller waiting on it)
// arbitrarily long.
const maxGroup = 1000

// groupCommit runs concurrent writes in shared transactions: the first
// write of an idle store commits at once, and every write that arrives
// while a commit is on its way to disk joins the next one. bbolt's own
// Batch waits a fixed delay before each commit instead; under load that
// delay is added to every consume's latency, and when idle it is added
// for nothing.
//
// As with Batch, a write may run more than once: when one fails, the
// transaction is rolled back, the others are committed again without it,
// and it runs alone in a transaction of its own.
type groupCommit struct {
	db      *bbolt.DB
	mu      sync.Mutex
	pending []groupCall
	busy    bool
}

type groupCall struct {
	fn  func(*bbolt.Tx) error
	err chan error
}

// errAlone sends a failed write back to run alone.
var errAlone = errors.New("run alone")

// update runs fn in a durable transaction shared with the writes that wait
// with it, and returns once that transaction is on disk.
func (g *groupCommit) update(fn func(*bbolt.Tx) error) error {
	c := groupCall{fn: fn, err: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if !g.busy {
		g.busy = true
		go g.drain()
	}
	g.mu.Unlock()
	err := <-c.err
	if errors.Is(err, errAlone) {
		return g.db.Update(func(tx *bbolt.Tx) error { return runWrite(fn, tx) })
	}
	return err
}

// drain commits what is pending until nothing is.
func (g *groupCommit) drain() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		calls := make([]groupCall, n)
		copy(calls, g.pending)
		g.pending = append(g.pending[:0], g.pending[n:]...)
		g.mu.Unlock()
		g.commit(calls)
	}
}

func (g *groupCommit) commit(calls []groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, c := range calls {
				if err := runWrite(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.err <- err
			}
			return
		}
		calls[failed].err <- errAlone
		calls = append(calls[:failed], calls[failed+1:]...)
	}
}

// runWrite runs one write, turning a panic into its error so that one bad
// write cannot take the others' answers down with it.
func runWrite(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("usage store write panicked: %v", p)
		}
	}()
	return fn(tx)
}
