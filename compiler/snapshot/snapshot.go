package snapshot

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	iradix "github.com/hashicorp/go-immutable-radix"
	"github.com/hashicorp/go-memdb"

	"github.com/promoctl/promoctl/promotions"
)

// Forever is the Until of a grant that never ends: the largest instant.
const Forever int64 = math.MaxInt64

// Micros is t as an instant of a snapshot: microseconds since the Unix
// epoch, rounded down (docs/rules.md, "Time"). An int64 of microseconds
// holds ±292,000 years, so the years 0001–9999 never wrap; an instant
// beyond what it holds saturates at its ends instead.
func Micros(t time.Time) int64 {
	const perSecond = int64(time.Second / time.Microsecond)
	sec := t.Unix()
	switch {
	case sec > math.MaxInt64/perSecond-1:
		return math.MaxInt64
	case sec < math.MinInt64/perSecond+1:
		return math.MinInt64
	}
	// Nanosecond is in [0, 1e9), so the sum rounds down, before 1970 too.
	return sec*perSecond + int64(t.Nanosecond())/int64(time.Microsecond)
}

// TimeOf is the instant a snapshot holds as us, in UTC.
func TimeOf(us int64) time.Time { return time.UnixMicro(us).UTC() }

// FeatureRow is a feature as stored in a snapshot. AllGrants are the
// grants.all of every promotion for the feature and Baseline the feature's
// entitlement in each plan that lists it (by plan key), so that a decision
// finds both with the feature's own lookup.
type FeatureRow struct {
	Key  string
	Name string
	Type promotions.FeatureType
	Unit string
	// Usage is how consumes are enforced, defaults filled in.
	Usage     promotions.FeatureUsage
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

// customerEntry is what a decision finds under a customer id: the directory
// entry (Customer nil when the directory does not list the id) and every
// grants.customers entry naming the id, ordered by feature, then promotion
// id. One lookup gives a decision both; an entry is never changed once a
// snapshot holds it (Update puts a new one in its place).
type customerEntry struct {
	row    CustomerRow
	grants []*GrantRow
}

// grantsFor returns the entry's grants for a feature: a sub-slice, so a
// decision allocates nothing to find them.
func (e *customerEntry) grantsFor(feature string) []*GrantRow {
	g := e.grants
	lo, hi := 0, len(g)
	for lo < hi { // first grant whose feature is not before feature
		mid := int(uint(lo+hi) >> 1)
		if g[mid].Promotion.Feature < feature {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	end := lo
	for end < len(g) && g[end].Promotion.Feature == feature {
		end++
	}
	if end == lo {
		return nil
	}
	return g[lo:end:end]
}

// compareGrants orders a customer's grants: by feature, then promotion id.
func compareGrants(a, b *GrantRow) int {
	if c := strings.Compare(a.Promotion.Feature, b.Promotion.Feature); c != 0 {
		return c
	}
	return strings.Compare(a.Promotion.ID, b.Promotion.ID)
}

// PromotionRow is a promotion as compiled: the model object plus counts.
// Grant rows point at it so a decision needs no further lookup.
type PromotionRow struct {
	*promotions.Promotion
	Granted int // customer entries in state granted
	Revoked int // customer entries in state revoked
	// grantRows is how many grant rows the promotion contributed to the
	// customers tree (duplicates of an id count once).
	grantRows int
}

// Span is one period of a grant in Unix microseconds (Micros): it holds
// [From, Until).
type Span struct {
	From, Until int64
}

// GrantRow is one grants.customers entry. Times are Unix microseconds
// (Micros).
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

// Holding returns the period that holds t (Unix microseconds).
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

// AllGrantRow is a promotion's grants.all, periods as in GrantRow.
type AllGrantRow struct {
	Promotion *PromotionRow
	GrantedAt int64
	Until     int64
	Earlier   *[]Span
}

// Holding returns the period of grants.all that holds t (Unix
// microseconds).
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
	read *memdb.Txn
	// The lookups of a decision bypass memdb, whose every lookup allocates
	// a key, an index transaction and an iterator. customers is an
	// immutable radix tree (the structure under memdb's own indexes, so an
	// update copies only the paths it changes and readers of an older
	// snapshot keep theirs) from customer id to *customerEntry; features
	// and plans are small maps, copied whole by an update that changes them.
	customers *iradix.Tree
	features  map[string]*FeatureRow
	plans     map[string]*PlanRow
	Revision  string
	Model     *promotions.Model
	Counts    Counts
	BuiltAt   time.Time
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
	s := &Snapshot{db: db, Revision: revision, Model: m, BuiltAt: time.Now(),
		features: make(map[string]*FeatureRow, len(m.Features)), plans: make(map[string]*PlanRow, len(m.Plans))}

	features := s.features
	base := baselines(b, m.Plans)
	for _, key := range promotions.SortedKeys(m.Features) {
		f := m.Features[key]
		features[f.Key] = &FeatureRow{Key: b.intern(f.Key), Name: f.Name, Type: f.Type, Unit: f.Unit, Usage: f.UsagePolicy(), Baseline: base[f.Key]}
	}
	for _, key := range promotions.SortedKeys(m.Plans) {
		row := planRow(b, m.Plans[key])
		s.plans[row.Key] = row
		b.insert(TablePlans, row)
		s.Counts.Plans++
	}
	// Grants are grouped by customer through one sort rather than a map of
	// 1M keys and a sort of those keys: on L that was 5 of the 16 s of
	// building. seq keeps each feature's grants in promotion-id order.
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
	// features table: the sort is a fifth of a build that has nothing to
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
	for _, key := range promotions.SortedKeys(features) {
		b.insert(TableFeatures, features[key])
		s.Counts.Features++
	}
	customers := o.Customers
	if !slices.IsSortedFunc(customers, compareCustomers) {
		customers = slices.SortedFunc(slices.Values(customers), compareCustomers)
	}
	s.Counts.Customers = len(customers)
	<-sorted
	s.customers = buildCustomers(customers, grants)
	if b.err != nil {
		b.txn.Abort()
		return nil, b.err
	}
	b.txn.Commit()
	s.read = db.Txn(false)
	return s, nil
}

func compareCustomers(a, b *promotions.Customer) int { return strings.Compare(a.ID, b.ID) }

// buildCustomers merges the directory (in id order) with the grants (in
// customer, feature, promotion order) into the customers tree, inserting
// in key order.
func buildCustomers(directory []*promotions.Customer, grants []customerFeatureGrant) *iradix.Tree {
	tree := iradix.New()
	txn := tree.Txn()
	pending := 0
	put := func(id string, e *customerEntry) {
		txn.Insert([]byte(id), e)
		// A radix transaction keeps every node it wrote writable in place;
		// committing in batches bounds that cache, as for the memdb tables.
		if pending++; pending >= insertBatch {
			txn = txn.CommitOnly().Txn()
			pending = 0
		}
	}
	// takeGrants returns the run of grants of one customer from i on.
	takeGrants := func(i int) ([]*GrantRow, int) {
		j := i + 1
		for j < len(grants) && grants[j].customer == grants[i].customer {
			j++
		}
		rows := make([]*GrantRow, j-i)
		for k := range rows {
			rows[k] = grants[i+k].row
		}
		return rows, j
	}
	i := 0
	for _, c := range directory {
		for i < len(grants) && grants[i].customer < c.ID {
			id := grants[i].customer
			var rows []*GrantRow
			rows, i = takeGrants(i)
			put(id, &customerEntry{grants: rows})
		}
		e := &customerEntry{row: CustomerRow{Customer: c}}
		if i < len(grants) && grants[i].customer == c.ID {
			e.grants, i = takeGrants(i)
		}
		put(c.ID, e)
	}
	for i < len(grants) {
		id := grants[i].customer
		var rows []*GrantRow
		rows, i = takeGrants(i)
		put(id, &customerEntry{grants: rows})
	}
	return txn.CommitOnly()
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
		allRow = &AllGrantRow{Promotion: row, GrantedAt: Micros(all.GrantedAt),
			Until: grantUntil(p, all.GrantedAt, all.RevokedAt), Earlier: earlierSpans(p, all.Previous)}
		b.insert(TableAllGrants, allRow)
	}
	rows := make([]*GrantRow, 0, len(p.Grants.Customers))
	for _, g := range p.Grants.Customers {
		rows = append(rows, &GrantRow{
			Promotion: row,
			Customer:  g.ID,
			State:     g.State,
			GrantedAt: Micros(g.GrantedAt),
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

// customerFeatureGrant is a grant on its way into the customers tree.
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
		until = Micros(*end)
	}
	if revokedAt != nil {
		until = min(until, Micros(*revokedAt))
	}
	if p.DeactivatedAt != nil {
		until = min(until, Micros(*p.DeactivatedAt))
	}
	return max(until, Micros(grantedAt))
}

// earlierSpans resolves a grant's previous periods; nil without history.
func earlierSpans(p *promotions.Promotion, previous []promotions.Period) *[]Span {
	if len(previous) == 0 {
		return nil
	}
	spans := make([]Span, len(previous))
	for i, per := range previous {
		spans[i] = Span{From: Micros(per.GrantedAt), Until: grantUntil(p, per.GrantedAt, per.RevokedAt)}
	}
	return &spans
}

// Reader is a consistent read view of a snapshot. It is cheap to create and
// must not be shared between goroutines.
type Reader struct {
	txn *memdb.Txn
	s   *Snapshot
}

// Read opens a read view.
func (s *Snapshot) Read() Reader { return Reader{txn: s.read, s: s} }

func first[T any](r Reader, table string, args ...any) *T {
	raw, err := r.txn.First(table, IndexID, args...)
	if err != nil || raw == nil {
		return nil
	}
	return raw.(*T)
}

// Feature returns a feature by key, or nil.
func (r Reader) Feature(key string) *FeatureRow { return r.s.features[key] }

// Plan returns a plan by key, or nil.
func (r Reader) Plan(key string) *PlanRow { return r.s.plans[key] }

func (r Reader) entry(id string) *customerEntry {
	raw, ok := r.s.customers.Get([]byte(id))
	if !ok {
		return nil
	}
	return raw.(*customerEntry)
}

// Customer returns a directory entry by id, or nil.
func (r Reader) Customer(id string) *CustomerRow {
	c, _ := r.CustomerAndGrants(id, "")
	return c
}

// Promotion returns a promotion by id, or nil.
func (r Reader) Promotion(id string) *PromotionRow {
	return first[PromotionRow](r, TablePromotions, id)
}

// CustomerGrants returns the customer's grant entries for a feature, or nil.
func (r Reader) CustomerGrants(customer, feature string) []*GrantRow {
	_, grants := r.CustomerAndGrants(customer, feature)
	return grants
}

// CustomerAndGrants returns the directory entry of a customer (nil when the
// directory does not list it) and its grant entries for a feature, ordered
// by promotion id, with one lookup and no allocation.
func (r Reader) CustomerAndGrants(customer, feature string) (*CustomerRow, []*GrantRow) {
	e := r.entry(customer)
	if e == nil {
		return nil, nil
	}
	var grants []*GrantRow
	if feature != "" {
		grants = e.grantsFor(feature)
	}
	if e.row.Customer == nil {
		return nil, grants
	}
	return &e.row, grants
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
