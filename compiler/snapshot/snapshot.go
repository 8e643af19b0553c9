package snapshot

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/promoctl/promoctl/promotions"
)

// Forever is the Until of a grant that never ends.
const Forever int64 = math.MaxInt64

// FeatureRow is a feature as stored in a snapshot. AllGrants are the
// grants.all of every promotion for the feature and Baseline the feature's
// entitlement in each plan that lists it (by plan key), so that a decision
// finds both with the feature's own lookup.
type FeatureRow struct {
	Key       string
	Name      string
	Type      promotions.FeatureType
	Unit      string
	AllGrants []*AllGrantRow
	Baseline  map[string]PlanEntitlementRow
}

// baselines returns, for every feature, its entitlement in each plan.
func baselines(b *builder, plans map[string]*promotions.Plan) map[string]map[string]PlanEntitlementRow {
	out := map[string]map[string]PlanEntitlementRow{}
	for _, key := range promotions.SortedKeys(plans) {
		p := plans[key]
		for _, e := range p.Entitlements {
			pe := PlanEntitlementRow{Reset: e.Reset}
			if e.Allowance != nil {
				pe.Allowance = *e.Allowance
			}
			if out[e.Feature] == nil {
				out[e.Feature] = map[string]PlanEntitlementRow{}
			}
			if _, dup := out[e.Feature][p.Key]; !dup {
				out[e.Feature][b.intern(p.Key)] = pe
			}
		}
	}
	return out
}

// PlanRow is a plan with its entitlements keyed by feature.
type PlanRow struct {
	Key          string
	Name         string
	Entitlements map[string]PlanEntitlementRow
}

// PlanEntitlementRow is one baseline entitlement.
type PlanEntitlementRow struct {
	Allowance promotions.Allowance
	Reset     promotions.Reset
}

// CustomerRow is a directory entry. It shares the model's object: a second
// copy of a million customers would cost more memory than any other table.
type CustomerRow struct {
	*promotions.Customer
}

// PromotionRow is a promotion as compiled: the model object plus counts.
// Grant rows point at it so a decision needs no further lookup.
type PromotionRow struct {
	*promotions.Promotion
	Granted int // customer entries in state granted
	Revoked int // customer entries in state revoked
	// grantRows is how many grant rows the promotion contributed to the
	// customer_features table (duplicates of an id count once).
	grantRows int
}

// Span is one period of a grant in Unix nanoseconds: it holds [From, Until).
type Span struct {
	From, Until int64
}

// GrantRow is one grants.customers entry. Times are Unix nanoseconds.
// GrantedAt and Until are its current period — Until is when it stops
// contributing: the end of its duration, its revocation or the promotion's
// deactivation, whichever is first (Forever when none). Earlier holds the
// periods before it, oldest first, and is nil for an entry without history:
// a pointer keeps the common row at 64 bytes.
type GrantRow struct {
	Promotion *PromotionRow
	Customer  string
	State     promotions.GrantState
	GrantedAt int64
	Until     int64
	Earlier   *[]Span
}

// Holding returns the period that holds t (Unix nanoseconds).
func (g *GrantRow) Holding(t int64) (Span, bool) { return holding(g.GrantedAt, g.Until, g.Earlier, t) }

// First is when the entry starts deciding for its customer: its first
// period's start. Before it, grants.all decides.
func (g *GrantRow) First() int64 {
	if g.Earlier != nil {
		return (*g.Earlier)[0].From
	}
	return g.GrantedAt
}

func holding(from, until int64, earlier *[]Span, t int64) (Span, bool) {
	if from <= t && t < until {
		return Span{From: from, Until: until}, true
	}
	if earlier != nil && t < from {
		for _, s := range *earlier {
			if s.From <= t && t < s.Until {
				return s, true
			}
		}
	}
	return Span{}, false
}

// CustomerFeatureRow lists a customer's grant entries for one feature.
type CustomerFeatureRow struct {
	Customer string
	Feature  string
	Grants   []*GrantRow
}

// AllGrantRow is a promotion's grants.all, periods as in GrantRow.
type AllGrantRow struct {
	Promotion *PromotionRow
	GrantedAt int64
	Until     int64
	Earlier   *[]Span
}

// Holding returns the period of grants.all that holds t (Unix nanoseconds).
func (g *AllGrantRow) Holding(t int64) (Span, bool) {
	return holding(g.GrantedAt, g.Until, g.Earlier, t)
}

// Counts of a snapshot's objects, for status and metrics.
type Counts struct {
	Features   int `json:"features"`
	Plans      int `json:"plans"`
	Customers  int `json:"customers"`
	Promotions int `json:"promotions"`
	Grants     int `json:"grants"`
}

// Snapshot is an immutable, indexed view of one valid revision of the repo.
type Snapshot struct {
	db *memdb.MemDB
	// read is one read transaction shared by every reader: a memdb read
	// transaction never changes, and sharing it saves an allocation per
	// decision.
	read     *memdb.Txn
	Revision string
	Model    *promotions.Model
	Counts   Counts
	BuiltAt  time.Time
}

// insertBatch bounds a write transaction while a snapshot is built aside:
// nobody reads it yet, and memdb's transactions get slower as they grow.
const insertBatch = 20_000

// Build indexes a model into a new snapshot.
func Build(m *promotions.Model, revision string) (*Snapshot, error) {
	o := Ordered{Customers: make([]*promotions.Customer, 0, len(m.Customers)), Promotions: m.SortedPromotions()}
	for _, id := range m.CustomerIDs() {
		o.Customers = append(o.Customers, m.Customers[id])
	}
	return BuildOrdered(m, revision, o)
}

// Ordered holds a model's customers and promotions in id order.
type Ordered struct {
	Customers  []*promotions.Customer
	Promotions []*promotions.Promotion
}

// BuildOrdered is Build for a caller that already holds the model's objects
// in id order (a bundle stores them so): sorting a million ids is a good
// part of a build that has nothing else to parse.
func BuildOrdered(m *promotions.Model, revision string, o Ordered) (*Snapshot, error) {
	primary, err := memdb.NewMemDB(snapshotSchema())
	if err != nil {
		return nil, fmt.Errorf("create snapshot tables: %w", err)
	}
	// Nobody watches a snapshot's tables: readers look rows up and never
	// wait for a change. A primary memdb still notifies on every commit by
	// walking the nodes the transaction touched, and past 8,192 of them
	// the whole tree, which was 12 of the 27 s of building L (and ~1 s of
	// every large incremental update). The copy Snapshot returns is a full
	// database that skips the notification.
	db := primary.Snapshot()
	b := &builder{db: db, txn: db.Txn(true), strings: map[string]string{}}
	s := &Snapshot{db: db, Revision: revision, Model: m, BuiltAt: time.Now()}

	features := make(map[string]*FeatureRow, len(m.Features))
	base := baselines(b, m.Plans)
	for _, key := range promotions.SortedKeys(m.Features) {
		f := m.Features[key]
		features[f.Key] = &FeatureRow{Key: b.intern(f.Key), Name: f.Name, Type: f.Type, Unit: f.Unit, Baseline: base[f.Key]}
	}
	for _, key := range promotions.SortedKeys(m.Plans) {
		b.insert(TablePlans, planRow(b, m.Plans[key]))
		s.Counts.Plans++
	}
	// Grants are grouped by customer and feature through one sort rather
	// than a map of 1M keys and a sort of those keys: on L that was 5 of
	// the 16 s of building. seq keeps each group in promotion-id order.
	grants := make([]customerFeatureGrant, 0, m.GrantCount())
	for _, p := range o.Promotions {
		rows, all := b.insertPromotion(p)
		for _, g := range rows {
			grants = append(grants, customerFeatureGrant{customer: g.Customer, feature: p.Feature, seq: len(grants), row: g})
		}
		if f := features[p.Feature]; f != nil && all != nil {
			f.AllGrants = append(f.AllGrants, all)
		}
		s.Counts.Grants += len(rows)
		s.Counts.Promotions++
	}
	// The grants are sorted on another core while this one fills the
	// customers table: the sort is a fifth of a build that has nothing to
	// parse (a bundle's), and the two share no data.
	sorted := make(chan struct{})
	go func() {
		defer close(sorted)
		slices.SortFunc(grants, func(a, b customerFeatureGrant) int {
			if c := strings.Compare(a.customer, b.customer); c != 0 {
				return c
			}
			if c := strings.Compare(a.feature, b.feature); c != 0 {
				return c
			}
			return a.seq - b.seq
		})
	}()
	for _, c := range o.Customers {
		b.insert(TableCustomers, customerRow(c))
		s.Counts.Customers++
	}
	for _, key := range promotions.SortedKeys(features) {
		b.insert(TableFeatures, features[key])
		s.Counts.Features++
	}
	<-sorted
	for i := 0; i < len(grants); {
		j := i + 1
		for j < len(grants) && grants[j].customer == grants[i].customer && grants[j].feature == grants[i].feature {
			j++
		}
		group := make([]*GrantRow, j-i)
		for k := range group {
			group[k] = grants[i+k].row
		}
		b.insert(TableCustomerFeatures, &CustomerFeatureRow{Customer: grants[i].customer, Feature: grants[i].feature, Grants: group})
		i = j
	}
	if b.err != nil {
		b.txn.Abort()
		return nil, b.err
	}
	b.txn.Commit()
	s.read = db.Txn(false)
	return s, nil
}

type builder struct {
	db      *memdb.MemDB
	txn     *memdb.Txn
	pending int
	strings map[string]string
	err     error
	// noBatch keeps every insert in one transaction: an update of a live
	// database must be all or nothing.
	noBatch bool
}

func planRow(b *builder, p *promotions.Plan) *PlanRow {
	row := &PlanRow{Key: b.intern(p.Key), Name: p.Name, Entitlements: make(map[string]PlanEntitlementRow, len(p.Entitlements))}
	for _, e := range p.Entitlements {
		pe := PlanEntitlementRow{Reset: e.Reset}
		if e.Allowance != nil {
			pe.Allowance = *e.Allowance
		}
		row.Entitlements[b.intern(e.Feature)] = pe
	}
	return row
}

// customerRow shares the model's customer: the decoder already shares one
// copy of each plan key and attribute set per file.
func customerRow(c *promotions.Customer) *CustomerRow {
	return &CustomerRow{Customer: c}
}

func (b *builder) insert(table string, row any) {
	if b.err != nil {
		return
	}
	if err := b.txn.Insert(table, row); err != nil {
		b.err = fmt.Errorf("insert into %s: %w", table, err)
		return
	}
	if b.pending++; !b.noBatch && b.pending >= insertBatch {
		b.txn.Commit()
		b.txn = b.db.Txn(true)
		b.pending = 0
	}
}

// intern shares one copy of strings that repeat across many rows (plan,
// feature and attribute keys).
func (b *builder) intern(s string) string {
	if v, ok := b.strings[s]; ok {
		return v
	}
	b.strings[s] = s
	return s
}

// insertPromotion inserts a promotion with its grants and returns the grant
// rows and the grants.all row (nil when none).
func (b *builder) insertPromotion(p *promotions.Promotion) ([]*GrantRow, *AllGrantRow) {
	row := &PromotionRow{Promotion: p}
	for _, g := range p.Grants.Customers {
		if g.State == promotions.StateGranted {
			row.Granted++
		} else {
			row.Revoked++
		}
	}
	defer b.insert(TablePromotions, row) // once grantRows is known
	var allRow *AllGrantRow
	if all := p.Grants.All; all != nil {
		allRow = &AllGrantRow{Promotion: row, GrantedAt: all.GrantedAt.UnixNano(),
			Until: grantUntil(p, all.GrantedAt, all.RevokedAt), Earlier: earlierSpans(p, all.Previous)}
		b.insert(TableAllGrants, allRow)
	}
	rows := make([]*GrantRow, 0, len(p.Grants.Customers))
	for _, g := range p.Grants.Customers {
		rows = append(rows, &GrantRow{
			Promotion: row,
			Customer:  g.ID,
			State:     g.State,
			GrantedAt: g.GrantedAt.UnixNano(),
			Until:     grantUntil(p, g.GrantedAt, g.RevokedAt),
			Earlier:   earlierSpans(p, g.Previous),
		})
	}
	slices.SortStableFunc(rows, func(a, b *GrantRow) int { return strings.Compare(a.Customer, b.Customer) })
	// A duplicate is a validation error; the first entry wins.
	rows = slices.CompactFunc(rows, func(a, b *GrantRow) bool { return a.Customer == b.Customer })
	row.grantRows = len(rows)
	return rows, allRow
}

// customerFeatureGrant is a grant on its way into customer_features.
type customerFeatureGrant struct {
	customer, feature string
	seq               int
	row               *GrantRow
}

// grantUntil is when a period stops: the end of its duration, its
// revocation or the promotion's deactivation, whichever comes first, and
// never before it starts (docs/apply-flow.md, "Grant periods").
func grantUntil(p *promotions.Promotion, grantedAt time.Time, revokedAt *time.Time) int64 {
	until := Forever
	if end := p.GrantEnd(grantedAt); end != nil {
		until = end.UnixNano()
	}
	if revokedAt != nil && revokedAt.UnixNano() < until {
		until = revokedAt.UnixNano()
	}
	if p.DeactivatedAt != nil && p.DeactivatedAt.UnixNano() < until {
		until = p.DeactivatedAt.UnixNano()
	}
	return max(until, grantedAt.UnixNano())
}

// earlierSpans resolves a grant's previous periods; nil without history.
func earlierSpans(p *promotions.Promotion, previous []promotions.Period) *[]Span {
	if len(previous) == 0 {
		return nil
	}
	spans := make([]Span, len(previous))
	for i, per := range previous {
		spans[i] = Span{From: per.GrantedAt.UnixNano(), Until: grantUntil(p, per.GrantedAt, per.RevokedAt)}
	}
	return &spans
}

// Reader is a consistent read view of a snapshot. It is cheap to create and
// must not be shared between goroutines.
type Reader struct {
	txn *memdb.Txn
}

// Read opens a read view.
func (s *Snapshot) Read() Reader { return Reader{txn: s.read} }

func first[T any](r Reader, table string, args ...any) *T {
	raw, err := r.txn.First(table, IndexID, args...)
	if err != nil || raw == nil {
		return nil
	}
	return raw.(*T)
}

// Feature returns a feature by key, or nil.
func (r Reader) Feature(key string) *FeatureRow { return first[FeatureRow](r, TableFeatures, key) }

// Plan returns a plan by key, or nil.
func (r Reader) Plan(key string) *PlanRow { return first[PlanRow](r, TablePlans, key) }

// Customer returns a directory entry by id, or nil.
func (r Reader) Customer(id string) *CustomerRow { return first[CustomerRow](r, TableCustomers, id) }

// Promotion returns a promotion by id, or nil.
func (r Reader) Promotion(id string) *PromotionRow {
	return first[PromotionRow](r, TablePromotions, id)
}

// CustomerGrants returns the customer's grant entries for a feature, or nil.
func (r Reader) CustomerGrants(customer, feature string) []*GrantRow {
	if cf := first[CustomerFeatureRow](r, TableCustomerFeatures, customer, feature); cf != nil {
		return cf.Grants
	}
	return nil
}

// Features returns every feature in key order.
func (r Reader) Features() []*FeatureRow { return all[FeatureRow](r, TableFeatures) }

// Plans returns every plan in key order.
func (r Reader) Plans() []*PlanRow { return all[PlanRow](r, TablePlans) }

// PromotionsFor returns the promotions for a feature in id order.
func (r Reader) PromotionsFor(feature string) []*PromotionRow {
	it, err := r.txn.Get(TablePromotions, IndexFeature, feature)
	if err != nil {
		return nil
	}
	var out []*PromotionRow
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(*PromotionRow))
	}
	return out
}

// Promotions returns every promotion in id order.
func (r Reader) Promotions() []*PromotionRow { return all[PromotionRow](r, TablePromotions) }

func all[T any](r Reader, table string) []*T {
	it, err := r.txn.Get(table, IndexID)
	if err != nil {
		return nil
	}
	var out []*T
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(*T))
	}
	return out
}
