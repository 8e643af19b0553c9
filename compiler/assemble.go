package compiler

import (
	"github.com/promoctl/promoctl/promotions"
)

// loadGaps records what files that failed to load meant to define:
// references to these are not reported as unknown, since the real error is
// in that file.
type loadGaps struct {
	unparsable bool
	broken     map[string]map[string]bool // kind → ids
}

// mayDefine reports whether a file that failed to load may define id of
// the given kind.
func (g loadGaps) mayDefine(kind, id string) bool {
	return g.unparsable || g.broken[kind][id]
}

// assemble merges per-file results into one model, reporting ids defined
// more than once. The first definition (in path order) wins.
func assemble(files []string, results map[string]*fileResult) (*promotions.Model, loadGaps, promotions.Diagnostics) {
	m := promotions.NewModel()
	var gaps loadGaps
	var diags promotions.Diagnostics
	dup := func(file string, path promotions.Path, what, id, firstFile string) {
		diags = append(diags, promotions.ErrorAt(promotions.CodeDuplicateID, file, path,
			"%s %q is already defined in %s", what, id, firstFile))
	}
	for _, f := range files {
		r := results[f]
		if r == nil {
			continue
		}
		if r.unparsable {
			gaps.unparsable = true
		}
		if r.brokenIDs != nil {
			if gaps.broken == nil {
				gaps.broken = map[string]map[string]bool{}
			}
			if gaps.broken[r.kind] == nil {
				gaps.broken[r.kind] = map[string]bool{}
			}
			for _, id := range r.brokenIDs {
				gaps.broken[r.kind][id] = true
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
	return m, gaps, diags
}
