package bolt

import (
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// spoolKey is namespace|customer|feature \x00 key: ids contain neither
// separator.
func spoolKey(sc usage.Scope, key string) []byte {
	return []byte(sc.Namespace + "|" + sc.Customer + "|" + sc.Feature + "\x00" + key)
}

// Spool keeps rec under its scope and key until Unspool; it is durable when
// Spool returns. A key spooled twice keeps its first record.
func (s *Store) Spool(sc usage.Scope, key string, rec usage.Recorded) error {
	err := s.writes.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(spool)
		k := spoolKey(sc, key)
		if b.Get(k) != nil {
			return nil
		}
		return b.Put(k, usage.AppendRecord(nil, rec))
	})
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// Spooled reports the record spooled under sc and key, if any: a retry of a
// spooled consume answers it again.
func (s *Store) Spooled(sc usage.Scope, key string) (usage.Recorded, bool, error) {
	var (
		rec usage.Recorded
		ok  bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(spool).Get(spoolKey(sc, key))
		if v == nil {
			return nil
		}
		var err error
		rec, err = usage.DecodeRecord(string(v))
		ok = err == nil
		return err
	})
	return rec, ok, err
}

// Pending lists up to limit spooled consumes, oldest key order first.
func (s *Store) Pending(limit int) ([]usage.Spooled, error) {
	var out []usage.Spooled
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(spool).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			scope, key, ok := strings.Cut(string(k), "\x00")
			parts := strings.SplitN(scope, "|", 3)
			if !ok || len(parts) != 3 {
				continue
			}
			rec, err := usage.DecodeRecord(string(v))
			if err != nil {
				continue
			}
			out = append(out, usage.Spooled{Scope: usage.Scope{Namespace: parts[0], Customer: parts[1], Feature: parts[2]}, Key: key, Record: rec})
		}
		return nil
	})
	return out, err
}

// Unspool removes a replayed consume.
func (s *Store) Unspool(sc usage.Scope, key string) error {
	return s.writes.update(func(tx *bbolt.Tx) error { return tx.Bucket(spool).Delete(spoolKey(sc, key)) })
}

// SpoolLen is how many consumes wait to be replayed.
func (s *Store) SpoolLen() int {
	var n int
	_ = s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(spool).Stats().KeyN
		return nil
	})
	return n
}
