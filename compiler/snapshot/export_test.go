package snapshot

import (
	"encoding/json"
	"fmt"

	"github.com/promoctl/promoctl/promotions"
)

// Dump renders every row of every table, in index order, for tests that
// compare two snapshots row for row.
func Dump(s *Snapshot) map[string][]string {
	out := map[string][]string{}
	for name := range snapshotSchema().Tables {
		it, err := s.read.Get(name, IndexID)
		if err != nil {
			panic(fmt.Sprintf("dump %s: %v", name, err))
		}
		rows := []string{}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			b, err := json.Marshal(raw)
			if err != nil {
				panic(fmt.Sprintf("dump %s: %v", name, err))
			}
			rows = append(rows, string(b))
		}
		out[name] = rows
	}
	// The decision lookups beside the tables: every customer entry, and
	// the keys of the feature and plan maps with the rows they point at.
	customers := []string{}
	s.customers.Root().Walk(func(k []byte, v any) bool {
		e := v.(*customerEntry)
		b, err := json.Marshal(struct {
			ID       string
			Customer *promotions.Customer
			Grants   []*GrantRow
		}{string(k), e.row.Customer, e.grants})
		if err != nil {
			panic(fmt.Sprintf("dump customers: %v", err))
		}
		customers = append(customers, string(b))
		return false
	})
	out["customers"] = customers
	for name, rows := range map[string]any{"features_by_key": s.features, "plans_by_key": s.plans} {
		b, err := json.Marshal(rows)
		if err != nil {
			panic(fmt.Sprintf("dump %s: %v", name, err))
		}
		out[name] = []string{string(b)}
	}
	return out
}
