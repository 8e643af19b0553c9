package compiler

import (
	"sort"

	"github.com/promoctl/promoctl/promotions"
)

// Model is a whole config repo decoded into the domain model. Maps are keyed
// by feature key, plan key, customer id and promotion id.
type Model struct {
	Features   map[string]*promotions.Feature
	Plans      map[string]*promotions.Plan
	Customers  map[string]*promotions.Customer
	Promotions map[string]*promotions.Promotion
	// HasDirectory is true when at least one Customers file exists; only
	// then are grant customer ids checked against it.
	HasDirectory bool

	// What files that failed to load meant to define: references to these
	// are not reported as unknown, since the real error is in that file.
	unparsable bool
	broken     map[string]map[string]bool // kind → ids
}

// mayDefine reports whether a file that failed to load may define id of
// the given kind.
func (m *Model) mayDefine(kind, id string) bool {
	return m.unparsable || m.broken[kind][id]
}

// PromotionIDs returns promotion ids in order.
func (m *Model) PromotionIDs() []string { return promotions.SortedKeys(m.Promotions) }

// CustomerIDs returns customer ids in order.
func (m *Model) CustomerIDs() []string { return promotions.SortedKeys(m.Customers) }

// assemble merges per-file results into one model, reporting ids defined
// more than once. The first definition (in path order) wins.
func assemble(files []string, results map[string]*fileResult) (*Model, promotions.Diagnostics) {
	m := &Model{
		Features:   map[string]*promotions.Feature{},
		Plans:      map[string]*promotions.Plan{},
		Customers:  map[string]*promotions.Customer{},
		Promotions: map[string]*promotions.Promotion{},
	}
	var diags promotions.Diagnostics
	dup := func(file string, path promotions.Path, what, id, firstFile string) {
		diags = append(diags, promotions.Error(promotions.CodeDuplicateID, file, path,
			"%s %q is already defined in %s", what, id, firstFile))
	}
	for _, f := range files {
		r := results[f]
		if r == nil {
			continue
		}
		if r.unparsable {
			m.unparsable = true
		}
		if r.brokenIDs != nil {
			if m.broken == nil {
				m.broken = map[string]map[string]bool{}
			}
			if m.broken[r.kind] == nil {
				m.broken[r.kind] = map[string]bool{}
			}
			for _, id := range r.brokenIDs {
				m.broken[r.kind][id] = true
			}
		}
		switch {
		case r.feature != nil:
			if first, ok := m.Features[r.feature.Key]; ok {
				dup(f, promotions.P("key"), "feature", r.feature.Key, first.File)
				continue
			}
			m.Features[r.feature.Key] = r.feature
		case r.plan != nil:
			if first, ok := m.Plans[r.plan.Key]; ok {
				dup(f, promotions.P("key"), "plan", r.plan.Key, first.File)
				continue
			}
			m.Plans[r.plan.Key] = r.plan
		case r.customers != nil:
			m.HasDirectory = true
			for i := range r.customers.Customers {
				c := &r.customers.Customers[i]
				if first, ok := m.Customers[c.ID]; ok {
					dup(f, promotions.P("customers", i, "id"), "customer", c.ID, first.File)
					continue
				}
				m.Customers[c.ID] = c
			}
		case r.promotion != nil:
			if first, ok := m.Promotions[r.promotion.ID]; ok {
				dup(f, promotions.P("id"), "promotion", r.promotion.ID, first.File)
				continue
			}
			m.Promotions[r.promotion.ID] = r.promotion
		case r.kind == promotions.KindCustomers:
			m.HasDirectory = true
		}
	}
	return m, diags
}

// sortedPromotions returns the model's promotions in id order, so that
// diagnostics come out in a stable order.
func (m *Model) sortedPromotions() []*promotions.Promotion {
	out := make([]*promotions.Promotion, 0, len(m.Promotions))
	for _, p := range m.Promotions {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// grantCount is the number of grants.customers entries of all promotions.
func (m *Model) grantCount() int {
	n := 0
	for _, p := range m.Promotions {
		n += len(p.Grants.Customers)
	}
	return n
}
