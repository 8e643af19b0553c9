package repogen

import (
	"bufio"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

const day = 24 * time.Hour

type windowKind int

const (
	windowBoth windowKind = iota
	windowStartOnly
	windowEndOnly
	windowNone
)

// shape is every structural choice of a promotion.
type shape struct {
	metered     bool
	mode        promotions.Mode
	unlimited   bool
	window      windowKind
	duration    promotions.DurationUnit // "" for grants that never end
	byPlan      bool                    // eligibility.plans
	byAttribute bool                    // eligibility.attributes
	all         bool                    // grants.all
	allRevoked  bool
	deactivated bool
	draft       bool // never applied: no grants, is_applied false
}

// mandatoryShapes are given to the first regular promotions so that even
// the smallest repo has every shape; the rest are drawn at random.
var mandatoryShapes = []shape{
	{metered: true, mode: promotions.ModeAdditive, duration: promotions.UnitDays, byPlan: true},
	{metered: true, mode: promotions.ModeOverride, duration: promotions.UnitWeeks, byAttribute: true},
	{metered: true, mode: promotions.ModeOverride, unlimited: true, duration: promotions.UnitMonths, byPlan: true, byAttribute: true},
	{window: windowStartOnly, duration: promotions.UnitYears},
	{window: windowEndOnly, all: true, byPlan: true},
	{metered: true, mode: promotions.ModeAdditive, all: true, deactivated: true, duration: promotions.UnitMonths},
	{metered: true, mode: promotions.ModeAdditive, draft: true, byPlan: true},
	{metered: true, mode: promotions.ModeAdditive, unlimited: true, window: windowNone, all: true, allRevoked: true},
	{byAttribute: true, duration: promotions.UnitDays},
	{metered: true, mode: promotions.ModeAdditive, deactivated: true, byPlan: true},
}

func randomShape(r *rng) shape {
	s := shape{metered: r.chance(60)}
	if s.metered {
		s.mode = promotions.ModeAdditive
		if r.chance(35) {
			s.mode = promotions.ModeOverride
		}
		s.unlimited = r.chance(6)
	}
	s.window = windowKind(r.pick([]int{70, 12, 8, 10}))
	s.duration = []promotions.DurationUnit{"", promotions.UnitDays, promotions.UnitWeeks, promotions.UnitMonths,
		promotions.UnitYears}[r.pick([]int{20, 25, 20, 25, 10})]
	switch r.pick([]int{30, 30, 20, 20}) {
	case 1:
		s.byPlan = true
	case 2:
		s.byAttribute = true
	case 3:
		s.byPlan, s.byAttribute = true, true
	}
	allPercent := 8
	if !s.metered {
		allPercent = 15
	}
	s.all = r.chance(allPercent)
	s.allRevoked = s.all && r.chance(30)
	s.deactivated = r.chance(6)
	s.draft = !s.deactivated && r.chance(4)
	return s
}

// promoSpec is a promotion decided in full except for which customers its
// entries go to, which is drawn when the file is written.
type promoSpec struct {
	id, name, description, comment string
	feature                        *featureSpec
	shape                          shape
	hot                            int // k of HotPromotionID(k), 0 for regular promotions
	start, end                     *time.Time
	durationValue                  int
	allowance                      int64
	reset                          promotions.Reset
	eligPlans                      []int // indexes into generator.plans
	eligRegions, eligSegments      []int
	blockStyle                     bool // eligibility in block style rather than flow style
	deactivatedAt                  time.Time
	allGrantedAt                   time.Time
	allRevokedAt                   *time.Time
	// lo and hi bound the granted_at of customer entries: [lo, hi).
	lo, hi time.Time
	// cells are the directory cells eligible customers live in; eligible
	// counts them.
	cells    []int
	eligible int
	capacity int // most regular entries the promotion may get
	entries  int // regular entries to draw
	fixed    int // entries of hot customers
	applied  bool
}

func (g *generator) shapePromotions() {
	g.promos = make([]*promoSpec, g.cfg.Promotions)
	for i := range g.promos {
		r := newRNG(g.cfg.Seed, streamPromotion, uint64(i))
		if i < HotPromotions {
			g.promos[i] = g.hotPromotion(&r, i+1)
			continue
		}
		j := i - HotPromotions
		s := randomShape(&r)
		if j < len(mandatoryShapes) {
			s = mandatoryShapes[j]
		}
		g.promos[i] = g.regularPromotion(&r, j, s)
	}
}

func (g *generator) hotPromotion(r *rng, k int) *promoSpec {
	s := shape{metered: true, mode: promotions.ModeAdditive, window: windowBoth, byPlan: k%4 == 1 || k%4 == 3, byAttribute: k%4 >= 2}
	p := &promoSpec{
		id:      HotPromotionID(k),
		name:    "Partner API boost " + strconv.Itoa(k),
		comment: "Partner programme tier " + strconv.Itoa(k) + ": extra API calls for partner accounts.",
		feature: &g.features[0],
		hot:     k,
		reset:   promotions.ResetMonthly,
		applied: true,
	}
	p.allowance = int64(1_000 * (1 + k%9))
	if k%7 == 0 {
		s.mode = promotions.ModeOverride
		p.allowance = int64(200_000 + 10_000*k)
	}
	if k%3 == 1 {
		s.window = windowStartOnly
	}
	switch k % 4 {
	case 1:
		s.duration, p.durationValue = promotions.UnitDays, 60
	case 2:
		s.duration, p.durationValue = promotions.UnitMonths, 3
	case 3:
		s.duration, p.durationValue = promotions.UnitYears, 1
	}
	p.shape = s
	start := HotAt.Truncate(day).Add(-90 * day)
	p.start = &start
	if s.window == windowBoth {
		end := HotAt.Truncate(day).Add(90 * day)
		p.end = &end
	}
	if s.byPlan {
		p.eligPlans = []int{0, 1} // starter, growth
	}
	if s.byAttribute {
		p.eligRegions = []int{0, 1} // eu, us
	}
	p.blockStyle = r.chance(30)
	p.lo, p.hi = *p.start, g.cfg.Now
	if p.end != nil && p.end.Before(p.hi) {
		p.hi = *p.end
	}
	for _, h := range hotCustomers {
		if k <= h.Contributing {
			p.fixed++
		}
	}
	p.description = fmt.Sprintf("+%d API calls per month for partner accounts", p.allowance)
	return p
}

func (g *generator) regularPromotion(r *rng, j int, s shape) *promoSpec {
	p := &promoSpec{shape: s}
	pool := g.boolean
	if s.metered {
		pool = g.metered
	}
	p.feature = &g.features[pool[r.intn(len(pool))]]
	campaign := campaigns[r.intn(len(campaigns))]
	p.id = fmt.Sprintf("%s-%s-%05d", campaign, strings.ReplaceAll(p.feature.key, "_", "-"), j+1)
	p.name = strings.ToUpper(campaign[:1]) + campaign[1:] + " " + p.feature.name
	p.comment = fmt.Sprintf("%s campaign, ticket GTM-%d. Owner: lifecycle marketing.", p.name, 100+r.intn(9000))

	now := g.cfg.Now
	today := now.Truncate(day)
	daysAgo := func() time.Time { return today.Add(-time.Duration(3+r.intn(538)) * day) }
	daysAhead := func() time.Time { return today.Add(time.Duration(1+r.intn(60)) * day) }
	switch s.window {
	case windowBoth, windowStartOnly:
		start := daysAgo()
		if s.draft {
			start = daysAhead()
		}
		p.start = &start
		if s.window == windowBoth {
			end := start.Add(time.Duration(30+r.intn(511)) * day)
			p.end = &end
		}
	case windowEndOnly:
		end := today.Add(time.Duration(r.intn(501)-200) * day)
		p.end = &end
	}
	p.lo, p.hi = today.Add(-720*day), now
	if p.start != nil {
		p.lo = *p.start
	}
	if p.end != nil && p.end.Before(p.hi) {
		p.hi = *p.end
	}

	switch s.duration {
	case promotions.UnitDays:
		p.durationValue = []int{7, 14, 30, 60, 90}[r.intn(5)]
	case promotions.UnitWeeks:
		p.durationValue = []int{2, 4, 8, 12}[r.intn(4)]
	case promotions.UnitMonths:
		p.durationValue = []int{1, 3, 6, 12}[r.intn(4)]
	case promotions.UnitYears:
		p.durationValue = 1 + r.intn(2)
	}
	if s.metered {
		p.reset = p.feature.reset
		if r.chance(20) {
			p.reset = []promotions.Reset{promotions.ResetNever, promotions.ResetDaily, promotions.ResetWeekly,
				promotions.ResetMonthly, promotions.ResetYearly}[r.intn(5)]
		}
		factors := []int64{1, 2, 5, 10, 50}
		if s.mode == promotions.ModeOverride {
			factors = []int64{10, 40, 100, 500}
		}
		p.allowance = p.feature.base * factors[r.intn(len(factors))]
	}
	if s.byPlan {
		p.eligPlans = r.subset(len(g.plans), 3)
	}
	if s.byAttribute {
		if r.chance(60) {
			p.eligRegions = r.subset(len(regions), 3)
		}
		if p.eligRegions == nil || r.chance(50) {
			p.eligSegments = r.subset(len(segments), 2)
		}
	}
	p.blockStyle = r.chance(30)
	if r.chance(70) {
		p.description = g.describe(p)
	}

	if s.draft {
		p.hi = p.lo // nothing may be granted
	}
	minutes := int(p.hi.Sub(p.lo) / time.Minute)
	if s.deactivated {
		if minutes < 2 {
			p.deactivatedAt = now
		} else {
			p.deactivatedAt = p.lo.Add(time.Duration(minutes/2+r.intn(minutes-minutes/2)) * time.Minute)
			p.hi = p.deactivatedAt
			minutes = int(p.hi.Sub(p.lo) / time.Minute)
		}
	}
	if s.all && minutes >= 2 {
		p.allGrantedAt = p.lo.Add(time.Duration(r.intn(minutes/2)) * time.Minute)
		switch {
		case s.deactivated:
			at := p.deactivatedAt
			p.allRevokedAt = &at
		case s.allRevoked:
			at := p.allGrantedAt.Add(time.Duration(r.intn(int(now.Sub(p.allGrantedAt)/time.Minute)+1)) * time.Minute)
			p.allRevokedAt = &at
		}
		if p.feature.key == HotFeature {
			p.fixed = len(hotCustomers) // the hot customers opt out
		}
	} else {
		p.shape.all = false
	}
	return p
}

func (g *generator) describe(p *promoSpec) string {
	var what string
	switch {
	case !p.shape.metered:
		what = p.feature.name + " access"
	case p.shape.unlimited:
		what = "Unlimited " + p.feature.name
	case p.shape.mode == promotions.ModeOverride:
		what = fmt.Sprintf("%s raised to %d %ss", p.feature.name, p.allowance, p.feature.unit)
	default:
		what = fmt.Sprintf("+%d %ss", p.allowance, p.feature.unit)
	}
	if p.shape.duration != "" {
		unit := string(p.shape.duration)
		if p.durationValue == 1 {
			unit = strings.TrimSuffix(unit, "s")
		}
		what += fmt.Sprintf(" for %d %s", p.durationValue, unit)
	}
	var who []string
	for _, i := range p.eligPlans {
		who = append(who, g.plans[i].name)
	}
	for _, i := range p.eligRegions {
		who = append(who, strings.ToUpper(regions[i]))
	}
	for _, i := range p.eligSegments {
		who = append(who, segments[i])
	}
	if len(who) == 0 {
		return what + ", every customer"
	}
	return what + " (" + strings.Join(who, ", ") + ")"
}

// eligibleCells fills p.cells and p.eligible from the directory.
func (g *generator) eligibleCells(p *promoSpec) {
	for c, list := range g.dir.cells {
		if len(list) == 0 {
			continue
		}
		a := cellAttrs(c)
		if (p.eligPlans == nil || slices.Contains(p.eligPlans, a.plan)) &&
			(p.eligRegions == nil || slices.Contains(p.eligRegions, a.region)) &&
			(p.eligSegments == nil || slices.Contains(p.eligSegments, a.segment)) {
			p.cells = append(p.cells, c)
			p.eligible += len(list)
		}
	}
}

// maxEntries bounds one promotion's file well below the loader's file size
// limit.
const maxEntries = 150_000

// distributeGrants decides how many regular entries each promotion gets:
// a heavy-tailed share of what the hot customers leave of cfg.Grants,
// bounded by half the promotion's eligible customers so that drawing
// distinct customers stays cheap.
func (g *generator) distributeGrants() {
	remaining := g.cfg.Grants
	weights := make([]int64, len(g.promos))
	for i, p := range g.promos {
		g.eligibleCells(p)
		remaining -= p.fixed
		if p.hi.Sub(p.lo) >= time.Minute {
			p.capacity = min(p.eligible/2, maxEntries)
		}
		// Pareto-like weights with integer arithmetic only: 2^20/u for u
		// uniform in [1, 2^20]; a few promotions get most grants.
		r := newRNG(g.cfg.Seed, streamWeights, uint64(i))
		weights[i] = (1 << 20) / int64(1+r.intn(1<<20))
	}
	// Every promotion that is applied without grants.all needs an entry.
	for _, p := range g.promos {
		if p.hot == 0 && !p.shape.all && !p.shape.draft && p.capacity > 0 && remaining > 0 {
			p.entries, remaining = 1, remaining-1
		}
	}
	for round := 0; remaining > 0 && round < 64; round++ {
		var total int64
		for i, p := range g.promos {
			if p.entries < p.capacity && !p.shape.draft {
				total += weights[i]
			}
		}
		if total == 0 {
			break
		}
		given := 0
		for i, p := range g.promos {
			if p.entries < p.capacity && !p.shape.draft {
				add := min(int(int64(remaining)*weights[i]/total), p.capacity-p.entries)
				p.entries += add
				given += add
			}
		}
		if given == 0 {
			for _, p := range g.promos {
				if remaining-given == 0 {
					break
				}
				if p.entries < p.capacity && !p.shape.draft {
					p.entries++
					given++
				}
			}
		}
		remaining -= given
	}
	for _, p := range g.promos {
		p.applied = p.entries+p.fixed > 0 || p.shape.all
		if !p.applied {
			p.shape.draft = true
		}
	}
}

// entry is one grants.customers entry.
type entry struct {
	id        string
	revoked   bool
	grantedAt time.Time
	revokedAt time.Time
}

// drawEntries picks p.entries distinct eligible customers and their grant
// times, plus the hot customers' entries.
func (g *generator) drawEntries(p *promoSpec, index int) []entry {
	r := newRNG(g.cfg.Seed, streamGrants, uint64(index))
	out := make([]entry, 0, p.entries+p.fixed)
	for _, h := range hotCustomers {
		switch {
		case p.hot > 0 && p.hot <= h.Contributing:
			at := HotAt.Add(-20*day + time.Duration(p.hot)*time.Hour)
			out = append(out, entry{id: h.ID, grantedAt: at})
		case p.hot == 0 && p.fixed > 0:
			// Opted out the moment grants.all was made: never contributes.
			out = append(out, entry{id: h.ID, revoked: true, grantedAt: p.allGrantedAt, revokedAt: p.allGrantedAt})
		}
	}
	if p.entries > 0 {
		for _, i := range g.pickCustomers(p, &r) {
			out = append(out, g.customerEntry(p, &r, customerID(int(i))))
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].grantedAt.Equal(out[b].grantedAt) {
			return out[a].grantedAt.Before(out[b].grantedAt)
		}
		return out[a].id < out[b].id
	})
	return out
}

// heavyPercent of picks go to the heavy 1% of customers, who thereby
// collect 10 and more promotions while most customers hold 0–3.
const heavyPercent = 15

func (g *generator) pickCustomers(p *promoSpec, r *rng) []int32 {
	cum := make([]int, len(p.cells))
	heavyCum := make([]int, len(p.cells))
	total, heavyTotal := 0, 0
	for k, c := range p.cells {
		total += len(g.dir.cells[c])
		heavyTotal += heavyCount(len(g.dir.cells[c]))
		cum[k], heavyCum[k] = total, heavyTotal
	}
	seen := make(map[int32]struct{}, p.entries)
	out := make([]int32, 0, p.entries)
	for attempts := 0; len(out) < p.entries && attempts < 64*p.entries+64; attempts++ {
		var idx int32
		if r.chance(heavyPercent) {
			x := r.intn(heavyTotal)
			list := g.dir.cells[p.cells[sort.SearchInts(heavyCum, x+1)]]
			idx = list[r.intn(heavyCount(len(list)))]
		} else {
			x := r.intn(total)
			list := g.dir.cells[p.cells[sort.SearchInts(cum, x+1)]]
			idx = list[r.intn(len(list))]
		}
		if _, dup := seen[idx]; dup {
			continue
		}
		seen[idx] = struct{}{}
		out = append(out, idx)
	}
	return out
}

// customerEntry draws the state and times of one regular entry.
func (g *generator) customerEntry(p *promoSpec, r *rng, id string) entry {
	between := func(from, to time.Time) time.Time { // [from, to), to the minute
		if n := int(to.Sub(from) / time.Minute); n > 0 {
			return from.Add(time.Duration(r.intn(n)) * time.Minute)
		}
		return from
	}
	upTo := func(from, to time.Time) time.Time { return between(from, to.Add(time.Minute)) } // [from, to]
	e := entry{id: id}
	switch {
	case p.shape.deactivated:
		e.grantedAt = between(p.lo, p.hi)
		e.revoked, e.revokedAt = true, upTo(e.grantedAt, p.deactivatedAt)
	case p.shape.all && r.chance(65):
		// An exception to grants.all: the customer opted out.
		e.grantedAt = between(p.allGrantedAt, p.hi)
		e.revoked, e.revokedAt = true, upTo(e.grantedAt, g.cfg.Now)
	default:
		e.grantedAt = between(p.lo, p.hi)
		if r.chance(12) {
			e.revoked, e.revokedAt = true, upTo(e.grantedAt, earlier(e.grantedAt.Add(90*day), g.cfg.Now))
		}
	}
	return e
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (g *generator) writePromotion(w *bufio.Writer, p *promoSpec, index int) {
	var buf []byte
	ts := func(t time.Time) string {
		buf = t.UTC().AppendFormat(buf[:0], time.RFC3339)
		return string(buf)
	}
	s := p.shape
	var entries []entry
	if p.applied {
		entries = g.drawEntries(p, index)
	}
	applied := len(entries) > 0 || s.all
	w.WriteString("# " + p.comment + "\n")
	w.WriteString("kind: PromotionalEntitlement\nid: " + p.id + "\nname: " + p.name + "\n")
	if p.description != "" {
		w.WriteString("description: " + strconv.Quote(p.description) + "\n")
	}
	if s.deactivated {
		w.WriteString("status: deactivated\ndeactivated_at: " + ts(p.deactivatedAt) + "\n")
	} else {
		w.WriteString("status: active\n")
	}
	w.WriteString("feature: " + p.feature.key + "\n")
	if s.metered {
		w.WriteString("feature_type: metered\n")
	} else {
		w.WriteString("feature_type: boolean\n")
	}
	if p.start != nil || p.end != nil {
		w.WriteString("window:\n")
		if p.start != nil {
			w.WriteString("  start: " + ts(*p.start) + "\n")
		}
		if p.end != nil {
			w.WriteString("  end: " + ts(*p.end) + "\n")
		}
	}
	if s.duration != "" {
		w.WriteString("duration:\n  value: " + strconv.Itoa(p.durationValue) + "\n  unit: " + string(s.duration) + "\n")
	}
	if s.metered {
		w.WriteString("metered:\n  mode: " + string(s.mode) + "\n")
		if s.unlimited {
			w.WriteString("  allowance: \"unlimited\"\n")
		} else {
			w.WriteString("  allowance: " + strconv.FormatInt(p.allowance, 10) + "\n")
		}
		w.WriteString("  reset: " + string(p.reset) + "\n")
	}
	g.writeEligibility(w, p)
	switch {
	case applied:
		w.WriteString("is_applied: true\n")
	case index%2 == 0:
		w.WriteString("is_applied: false\n")
	}
	if !applied {
		return
	}
	w.WriteString("grants:\n")
	if s.all {
		w.WriteString("  all:\n    granted_at: " + ts(p.allGrantedAt) + "\n")
		if p.allRevokedAt != nil {
			w.WriteString("    revoked_at: " + ts(*p.allRevokedAt) + "\n")
		}
	}
	if len(entries) == 0 {
		return
	}
	w.WriteString("  customers:\n")
	for _, e := range entries {
		w.WriteString("    - id: " + e.id + "\n")
		if e.revoked {
			w.WriteString("      state: revoked\n      granted_at: ")
			buf = writeTime(w, buf, e.grantedAt)
			w.WriteString("\n      revoked_at: ")
			buf = writeTime(w, buf, e.revokedAt)
		} else {
			w.WriteString("      state: granted\n      granted_at: ")
			buf = writeTime(w, buf, e.grantedAt)
		}
		w.WriteByte('\n')
	}
}

// writeTime writes t in RFC 3339, reusing buf to avoid an allocation per
// timestamp.
func writeTime(w *bufio.Writer, buf []byte, t time.Time) []byte {
	buf = t.UTC().AppendFormat(buf[:0], time.RFC3339)
	w.Write(buf)
	return buf
}

func (g *generator) writeEligibility(w *bufio.Writer, p *promoSpec) {
	if p.eligPlans == nil && p.eligRegions == nil && p.eligSegments == nil {
		return
	}
	names := func(idx []int, of func(int) string) []string {
		out := make([]string, len(idx))
		for k, i := range idx {
			out[k] = of(i)
		}
		return out
	}
	plans := names(p.eligPlans, func(i int) string { return g.plans[i].key })
	type attribute struct {
		key    string
		values []string
	}
	var attrs []attribute
	if p.eligRegions != nil {
		attrs = append(attrs, attribute{"region", names(p.eligRegions, func(i int) string { return regions[i] })})
	}
	if p.eligSegments != nil {
		attrs = append(attrs, attribute{"segment", names(p.eligSegments, func(i int) string { return segments[i] })})
	}
	w.WriteString("eligibility:\n")
	if p.blockStyle {
		if len(plans) > 0 {
			w.WriteString("  plans:\n")
			for _, v := range plans {
				w.WriteString("    - " + v + "\n")
			}
		}
		if len(attrs) > 0 {
			w.WriteString("  attributes:\n")
			for _, a := range attrs {
				w.WriteString("    " + a.key + ":\n")
				for _, v := range a.values {
					w.WriteString("      - " + v + "\n")
				}
			}
		}
		return
	}
	if len(plans) > 0 {
		w.WriteString("  plans: [" + strings.Join(plans, ", ") + "]\n")
	}
	if len(attrs) > 0 {
		parts := make([]string, len(attrs))
		for k, a := range attrs {
			parts[k] = a.key + ": [" + strings.Join(a.values, ", ") + "]"
		}
		w.WriteString("  attributes: {" + strings.Join(parts, ", ") + "}\n")
	}
}
