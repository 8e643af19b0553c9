package promotions

import "sort"

// Model is a whole config repo decoded into the domain model. Maps are keyed
// by feature key, plan key, customer id and promotion id. A Model handed to
// a snapshot is read, never changed: snapshots and the load cache share its
// objects.
type Model struct {
	Features   map[string]*Feature
	Plans      map[string]*Plan
	Customers  map[string]*Customer
	Promotions map[string]*Promotion
	// HasDirectory is true when at least one Customers file exists; only
	// then are grant customer ids checked against it.
	HasDirectory bool
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{
		Features:   map[string]*Feature{},
		Plans:      map[string]*Plan{},
		Customers:  map[string]*Customer{},
		Promotions: map[string]*Promotion{},
	}
}

// PromotionIDs returns promotion ids in order.
func (m *Model) PromotionIDs() []string { return SortedKeys(m.Promotions) }

// CustomerIDs returns customer ids in order.
func (m *Model) CustomerIDs() []string { return SortedKeys(m.Customers) }

// SortedPromotions returns the model's promotions in id order, so that
// whatever is derived from them comes out in a stable order.
func (m *Model) SortedPromotions() []*Promotion {
	out := make([]*Promotion, 0, len(m.Promotions))
	for _, p := range m.Promotions {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GrantCount is the number of grants.customers entries of all promotions.
func (m *Model) GrantCount() int {
	n := 0
	for _, p := range m.Promotions {
		n += len(p.Grants.Customers)
	}
	return n
}
