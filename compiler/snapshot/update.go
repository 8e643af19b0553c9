package snapshot

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	iradix "github.com/hashicorp/go-immutable-radix"
	"github.com/hashicorp/go-memdb"

	"github.com/promoctl/promoctl/promotions"
)

// Update returns a snapshot of m that shares prev's tables: the difference
// between prev's model and m is applied in one memdb write transaction, so
// readers of prev keep their consistent view (memdb is MVCC) while the new
// snapshot sees every change at once. A reload that changes one promotion
// file touches only that promotion's rows.
//
// Update finds the difference by identity first, and that rests on two
// rules the compiler keeps (TestIncrementalEqualsFresh holds Update equal
// to Build over random edit sequences):
//   - Model objects never change once handed to a snapshot: neither the
//     compiler nor Build nor Update writes to them. So the same pointer in
//     prev's model and in m means the same content, and costs nothing.
//   - A map of m that is the very map of prev's model (the load cache
//     reuses the customer map when no Customers file changed) holds the
//     same objects. A new object for unchanged content is only a redundant
//     write, never a wrong one.
//
// Updates must not run concurrently with each other; prev == nil builds
// from scratch.
func Update(prev *Snapshot, m *promotions.Model, revision string) (*Snapshot, error) {
	if prev == nil || prev.Model == nil {
		return Build(m, revision)
	}
	old := prev.Model
	txn := prev.db.Txn(true)
	u := &updater{txn: txn, customers: prev.customers.Txn(), builder: builder{db: prev.db, txn: txn, strings: map[string]string{}}}
	u.builder.noBatch = true
	s := &Snapshot{db: prev.db, Revision: revision, Model: m, BuiltAt: time.Now(), Counts: prev.Counts,
		features: maps.Clone(prev.features), plans: maps.Clone(prev.plans)}

	plansChanged := u.plans(old, m, s)
	u.directory(old, m)
	changedFeatures := u.promotions(old, m, s)
	u.features(old, m, s, changedFeatures, plansChanged)

	if u.err == nil {
		u.err = u.builder.err
	}
	if u.err != nil {
		txn.Abort()
		return nil, u.err
	}
	txn.Commit()
	s.customers = u.customers.CommitOnly()
	s.Counts.Features, s.Counts.Plans = len(m.Features), len(m.Plans)
	s.Counts.Customers, s.Counts.Promotions = len(m.Customers), len(m.Promotions)
	s.read = prev.db.Txn(false)
	return s, nil
}

type updater struct {
	builder
	txn       *memdb.Txn
	customers *iradix.Txn // the customers tree; never visible before the commit
	err       error
}

// entry returns the customer's entry as the update stands, or nil.
func (u *updater) entry(id string) *customerEntry {
	if raw, ok := u.customers.Get([]byte(id)); ok {
		return raw.(*customerEntry)
	}
	return nil
}

// putEntry stores a customer's entry, or drops it when it holds neither a
// directory entry nor grants. Entries are replaced, never changed: readers
// of the previous snapshot may hold the old one.
func (u *updater) putEntry(id string, e *customerEntry) {
	if e.row.Customer == nil && len(e.grants) == 0 {
		u.customers.Delete([]byte(id))
		return
	}
	u.customers.Insert([]byte(id), e)
}

func (u *updater) delete(table string, row any) {
	if u.err != nil || row == nil {
		return
	}
	if err := u.txn.Delete(table, row); err != nil {
		u.err = fmt.Errorf("delete from %s: %w", table, err)
	}
}

func (u *updater) lookup(table string, args ...any) any {
	raw, err := u.txn.First(table, IndexID, args...)
	if err != nil && u.err == nil {
		u.err = fmt.Errorf("look up %s: %w", table, err)
	}
	return raw
}

// plans replaces changed plans and reports whether any plan changed (every
// feature row then carries new baselines).
func (u *updater) plans(old, m *promotions.Model, s *Snapshot) bool {
	changed := false
	for key, p := range m.Plans {
		if old.Plans[key] != p {
			row := planRow(&u.builder, p)
			u.insert(TablePlans, row)
			s.plans[row.Key] = row
			changed = true
		}
	}
	for key := range old.Plans {
		if _, ok := m.Plans[key]; !ok {
			u.delete(TablePlans, u.lookup(TablePlans, key))
			delete(s.plans, key)
			changed = true
		}
	}
	return changed
}

// directory replaces the directory entries of changed, added and removed
// customers, keeping their grants.
func (u *updater) directory(old, m *promotions.Model) {
	if sameMap(old.Customers, m.Customers) {
		return // a reload that changed no customer file shares the map
	}
	for id, c := range m.Customers {
		if prev, ok := old.Customers[id]; ok && (prev == c || sameCustomer(prev, c)) {
			continue
		}
		e := &customerEntry{row: CustomerRow{Customer: c}}
		if prev := u.entry(id); prev != nil {
			e.grants = prev.grants
		}
		u.putEntry(id, e)
	}
	for id := range old.Customers {
		if _, ok := m.Customers[id]; !ok {
			if prev := u.entry(id); prev != nil {
				u.putEntry(id, &customerEntry{grants: prev.grants})
			}
		}
	}
}

// sameCustomer compares every field, the position in the file included:
// the row shares the object, and a stale position would point a support
// view or a diagnostic at the wrong line.
func sameCustomer(a, b *promotions.Customer) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Email == b.Email && a.Plan == b.Plan &&
		a.File == b.File && a.Index == b.Index && maps.Equal(a.Attributes, b.Attributes)
}

// promotions replaces the rows of every changed, added or removed
// promotion and the customer entries their grants touch. It returns the
// features whose grants.all list must be rebuilt.
func (u *updater) promotions(old, m *promotions.Model, s *Snapshot) map[string]bool {
	changed := map[string]bool{} // promotion ids whose rows are replaced
	for id, p := range m.Promotions {
		if old.Promotions[id] != p {
			changed[id] = true
		}
	}
	for id := range old.Promotions {
		if _, ok := m.Promotions[id]; !ok {
			changed[id] = true
		}
	}
	features := map[string]bool{}
	affected := map[string]bool{} // customer ids
	added := map[string][]*GrantRow{}
	for _, id := range slices.Sorted(maps.Keys(changed)) {
		if p, ok := old.Promotions[id]; ok {
			features[p.Feature] = true
			if raw := u.lookup(TablePromotions, id); raw != nil {
				s.Counts.Grants -= raw.(*PromotionRow).grantRows
				u.delete(TablePromotions, raw)
			}
			u.delete(TableAllGrants, u.lookup(TableAllGrants, id))
			for _, g := range p.Grants.Customers {
				affected[g.ID] = true
			}
		}
		if p, ok := m.Promotions[id]; ok {
			grants, _ := u.insertPromotion(p)
			features[p.Feature] = true
			for _, g := range grants {
				affected[g.Customer] = true
				added[g.Customer] = append(added[g.Customer], g)
			}
			s.Counts.Grants += len(grants)
		}
	}
	for id := range affected {
		e := &customerEntry{}
		if prev := u.entry(id); prev != nil {
			e.row = prev.row
			for _, g := range prev.grants {
				if !changed[g.Promotion.ID] {
					e.grants = append(e.grants, g)
				}
			}
		}
		e.grants = append(e.grants, added[id]...)
		slices.SortFunc(e.grants, compareGrants)
		u.putEntry(id, e)
	}
	return features
}

// features rewrites the feature rows that changed or whose grants.all list
// did, and deletes removed ones.
func (u *updater) features(old, m *promotions.Model, s *Snapshot, allChanged map[string]bool, plansChanged bool) {
	var base map[string]map[string]PlanEntitlementRow
	for key, f := range m.Features {
		if old.Features[key] == f && !allChanged[key] && !plansChanged {
			continue
		}
		if base == nil {
			base = baselines(&u.builder, m.Plans)
		}
		row := &FeatureRow{Key: u.intern(f.Key), Name: f.Name, Type: f.Type, Unit: f.Unit, Usage: f.UsagePolicy(), Baseline: base[key]}
		for _, id := range m.PromotionIDs() {
			p := m.Promotions[id]
			if p.Feature != key || p.Grants.All == nil {
				continue
			}
			if raw := u.lookup(TableAllGrants, id); raw != nil {
				row.AllGrants = append(row.AllGrants, raw.(*AllGrantRow))
			}
		}
		u.insert(TableFeatures, row)
		s.features[row.Key] = row
	}
	for key := range old.Features {
		if _, ok := m.Features[key]; !ok {
			u.delete(TableFeatures, u.lookup(TableFeatures, key))
			delete(s.features, key)
		}
	}
}

// sameMap reports whether two maps are the same map object (Go compares
// maps only with nil; their identity is the pointer inside).
func sameMap[K comparable, V any](a, b map[K]V) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
