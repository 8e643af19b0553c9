package compiler

import (
	"io/fs"
	"maps"

	"github.com/promoctl/promoctl/promotions"
)

// loadState is a complete load kept for the next one: the per-file results
// it was made of, the model, and the cross-file diagnostics split into
// those about the catalog (features, plans, customers) and those about
// each promotion. A sidecar reload that changes a few promotion files
// reuses the rest: the million-entry customer map, the catalog checks and
// every other promotion's checks.
type loadState struct {
	results    map[string]*fileResult
	model      *promotions.Model
	gaps       loadGaps
	catalog    promotions.Diagnostics
	promotions map[string]promotions.Diagnostics // by promotion id
}

func (s *loadState) diagnostics() promotions.Diagnostics {
	out := append(promotions.Diagnostics(nil), s.catalog...)
	for _, ds := range s.promotions {
		out = append(out, ds...)
	}
	return out
}

// fullCheck assembles the model from every file and runs every cross-file
// rule.
func fullCheck(fsys fs.FS, files []string, results map[string]*fileResult, opts Options) *loadState {
	model, gaps, assembleDiags := assemble(files, results)
	s := &loadState{results: results, model: model, gaps: gaps, promotions: map[string]promotions.Diagnostics{}}
	s.catalog = position(fsys, append(assembleDiags, checkCatalog(model, gaps)...), opts.Limits)
	for _, p := range model.SortedPromotions() {
		if ds := checkPromotion(model, gaps, opts.Base, p); len(ds) > 0 {
			s.promotions[p.ID] = position(fsys, ds, opts.Limits)
		}
	}
	return s
}

// advance derives the next state from s when the only files that changed,
// appeared or disappeared are promotion files that load cleanly; otherwise
// it returns nil and the caller does the full check.
func (s *loadState) advance(fsys fs.FS, files []string, results map[string]*fileResult, lim promotions.Limits) *loadState {
	if hasDuplicatePromotion(s.catalog) {
		return nil // which file wins would have to be decided again
	}
	var changed, removed []*fileResult
	for _, f := range files {
		r := results[f]
		old, existed := s.results[f]
		if existed && old == r {
			continue
		}
		if r.promotion == nil || (existed && old.promotion == nil) {
			return nil
		}
		if existed {
			removed = append(removed, old)
		}
		changed = append(changed, r)
	}
	for f, old := range s.results {
		if _, ok := results[f]; !ok {
			if old.promotion == nil {
				return nil
			}
			removed = append(removed, old)
		}
	}
	if len(changed) == 0 && len(removed) == 0 {
		return &loadState{results: results, model: s.model, gaps: s.gaps, catalog: s.catalog, promotions: s.promotions}
	}

	m := *s.model
	m.Promotions = maps.Clone(s.model.Promotions)
	diags := maps.Clone(s.promotions)
	for _, old := range removed {
		if m.Promotions[old.promotion.ID] == old.promotion {
			delete(m.Promotions, old.promotion.ID)
			delete(diags, old.promotion.ID)
		}
	}
	for _, r := range changed {
		if _, taken := m.Promotions[r.promotion.ID]; taken {
			return nil // a duplicate id: the full check reports it
		}
		m.Promotions[r.promotion.ID] = r.promotion
	}
	for _, r := range changed {
		delete(diags, r.promotion.ID)
		if ds := checkPromotion(&m, s.gaps, nil, r.promotion); len(ds) > 0 {
			diags[r.promotion.ID] = position(fsys, ds, lim)
		}
	}
	return &loadState{results: results, model: &m, gaps: s.gaps, catalog: s.catalog, promotions: diags}
}

func hasDuplicatePromotion(ds promotions.Diagnostics) bool {
	for _, d := range ds {
		if d.Code == promotions.CodeDuplicateID && len(d.Path) == 1 && d.Path[0].Key == "id" {
			return true
		}
	}
	return false
}
