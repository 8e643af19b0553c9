package snapshot

import (
	"fmt"

	"github.com/hashicorp/go-memdb"
)

// Table and index names of the snapshot, in the style of Nomad's state
// schema: one small factory per table, named constants for every index.
const (
	TableFeatures   = "features"
	TablePlans      = "plans"
	TablePromotions = "promotions"
	TableAllGrants  = "all_grants" // grants.all of each promotion
	// Customers and their grants.customers entries are not memdb tables:
	// each customer's entries hang off its directory entry in one radix
	// tree of the snapshot's own (Snapshot.customers), so that a decision
	// finds both with one lookup that allocates nothing. Every memdb index
	// costs a radix tree over its rows — at a million customers, about half
	// a gigabyte — and every memdb lookup allocates.

	IndexID      = "id"
	IndexFeature = "feature"
)

// snapshotSchema lists every table of a snapshot.
func snapshotSchema() *memdb.DBSchema {
	db := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{}}
	for _, t := range []*memdb.TableSchema{
		featuresTable(), plansTable(), promotionsTable(), allGrantsTable(),
	} {
		db.Tables[t.Name] = t
	}
	return db
}

func featuresTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TableFeatures, Indexes: map[string]*memdb.IndexSchema{
		IndexID: idIndex(func(o any) string { return o.(*FeatureRow).Key }),
	}}
}

func plansTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TablePlans, Indexes: map[string]*memdb.IndexSchema{
		IndexID: idIndex(func(o any) string { return o.(*PlanRow).Key }),
	}}
}

func promotionsTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TablePromotions, Indexes: map[string]*memdb.IndexSchema{
		IndexID: idIndex(func(o any) string { return o.(*PromotionRow).ID }),
		IndexFeature: {Name: IndexFeature, Indexer: keyIndexer{func(o any) []string {
			return []string{o.(*PromotionRow).Feature}
		}}},
	}}
}

func allGrantsTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TableAllGrants, Indexes: map[string]*memdb.IndexSchema{
		IndexID: idIndex(func(o any) string { return o.(*AllGrantRow).Promotion.ID }),
		IndexFeature: {Name: IndexFeature, Indexer: keyIndexer{func(o any) []string {
			return []string{o.(*AllGrantRow).Promotion.Feature}
		}}},
	}}
}

func idIndex(key func(any) string) *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: IndexID, Unique: true, Indexer: keyIndexer{func(o any) []string { return []string{key(o)} }}}
}

// keyIndexer is a hand-written indexer over one or more string fields. It
// avoids the reflection of memdb.StringFieldIndex and CompoundIndex, which
// dominates insert time at a million rows. Parts are NUL-separated and the
// key NUL-terminated, like memdb's own string indexes.
type keyIndexer struct {
	parts func(obj any) []string
}

func (k keyIndexer) FromObject(obj any) (bool, []byte, error) {
	return true, encodeKey(k.parts(obj)), nil
}

// FromArgs builds the key of a lookup. It is on every decision's path, so
// it sizes the key first and allocates it once.
func (k keyIndexer) FromArgs(args ...any) ([]byte, error) {
	n := 0
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("index argument %d must be a string, got %T", i, a)
		}
		n += len(s) + 1
	}
	key := make([]byte, 0, n)
	for _, a := range args {
		key = append(key, a.(string)...)
		key = append(key, 0)
	}
	return key, nil
}

func (k keyIndexer) PrefixFromArgs(args ...any) ([]byte, error) {
	key, err := k.FromArgs(args...)
	if err != nil {
		return nil, err
	}
	return key[:len(key)-1], nil
}

func encodeKey(parts []string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	key := make([]byte, 0, n)
	for _, p := range parts {
		key = append(key, p...)
		key = append(key, 0)
	}
	return key
}
