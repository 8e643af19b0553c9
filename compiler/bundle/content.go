package bundle

import (
	"github.com/promoctl/promoctl/promotions"
)

// decodeContent decodes the model and checks that it holds together the
// way a validated repo does (every reference resolves, every value is one
// the decision code knows), so that a bundle whose hash is right but whose
// content is not — built by hand, or by a broken writer — is refused
// instead of served.
func (b *Bundle) decodeContent(content []byte) error {
	d := &decoder{buf: content}
	d.stringTable()
	m := promotions.NewModel()

	n := d.items(minFeature)
	for range n {
		f := &promotions.Feature{Key: d.str(), Name: d.str(), Type: promotions.FeatureType(d.str()), Unit: d.str()}
		if d.bool() {
			f.Usage = &promotions.FeatureUsage{Overage: promotions.Overage(d.str()), OnStoreFailure: promotions.StoreFailure(d.str())}
			enum(d, "usage overage", f.Usage.Overage, "", promotions.OverageBlock, promotions.OverageSoft)
			enum(d, "usage on_store_failure", f.Usage.OnStoreFailure, "", promotions.StoreFailureAllow, promotions.StoreFailureDeny)
		}
		f.File = d.str()
		enum(d, "feature type", f.Type, promotions.FeatureBoolean, promotions.FeatureMetered)
		if _, dup := m.Features[f.Key]; dup {
			d.fail("feature %q twice", f.Key)
		}
		m.Features[f.Key] = f
	}

	n = d.items(minPlan)
	for range n {
		p := &promotions.Plan{Key: d.str(), Name: d.str(), File: d.str()}
		if k := d.items(minEntitlement); k > 0 {
			p.Entitlements = make([]promotions.PlanEntitlement, k)
			for i := range p.Entitlements {
				e := &p.Entitlements[i]
				e.Feature, e.Allowance, e.Reset = d.str(), d.allowance(), promotions.Reset(d.str())
				f := m.Features[e.Feature]
				if d.err == nil && f == nil {
					d.fail("plan %q lists unknown feature %q", p.Key, e.Feature)
				}
				if d.err == nil && (e.Allowance != nil) != (f.Type == promotions.FeatureMetered) {
					d.fail("plan %q: the allowance of %q does not fit its type", p.Key, e.Feature)
				}
				if e.Allowance != nil {
					d.reset(e.Reset)
				}
			}
		}
		if _, dup := m.Plans[p.Key]; dup {
			d.fail("plan %q twice", p.Key)
		}
		m.Plans[p.Key] = p
	}

	m.HasDirectory = d.bool()
	// An attribute set becomes a map only when a customer refers to it:
	// a map costs hundreds of bytes however few entries it holds, so
	// unreferenced sets would let a few bytes each allocate far more.
	sets := make([]attributeSet, d.items(minSet))
	for i := range sets {
		k := d.items(minSetEntry)
		sets[i].pairs = make([]string, 2*k)
		for j := range sets[i].pairs {
			sets[i].pairs[j] = d.str()
		}
	}
	n = d.items(minCustomer)
	customers := make([]promotions.Customer, n)
	b.customers = make([]*promotions.Customer, n)
	m.Customers = make(map[string]*promotions.Customer, n)
	for i := range customers {
		c := &customers[i]
		c.ID, c.Name, c.Email, c.Plan = d.str(), d.str(), d.str(), d.str()
		if ref := d.uint(); ref > 0 {
			if ref > uint64(len(sets)) {
				d.fail("customer %q: attribute set %d of %d", c.ID, ref, len(sets))
			} else {
				c.Attributes = sets[ref-1].attributes()
			}
		}
		c.File = d.str()
		c.Index = int(min(d.uint(), 1<<31))
		c.BillingAnchor = d.optTime()
		if i > 0 && d.err == nil && customers[i-1].ID >= c.ID {
			d.fail("customers out of order at %q", c.ID)
		}
		m.Customers[c.ID] = c
		b.customers[i] = c
	}

	n = d.items(minPromotion)
	promos := make([]promotions.Promotion, n)
	b.promotions = make([]*promotions.Promotion, n)
	for i := range promos {
		p := &promos[i]
		d.promotion(p, m)
		if i > 0 && d.err == nil && promos[i-1].ID >= p.ID {
			d.fail("promotions out of order at %q", p.ID)
		}
		m.Promotions[p.ID] = p
		b.promotions[i] = p
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d unexpected bytes after the content", len(d.buf))
	}
	if d.err != nil {
		return refuse(Malformed, "content: %v", d.err)
	}
	h := b.Header.Counts
	if h.Features != len(m.Features) || h.Plans != len(m.Plans) || h.Customers != len(m.Customers) ||
		h.Promotions != len(m.Promotions) || h.Grants != m.GrantCount() {
		return refuse(Malformed, "the header's counts do not match the content")
	}
	b.Model = m
	return nil
}

// attributeSet is a customer attribute set as stored: key, value pairs,
// made a map on first use and shared by every customer that refers to it.
type attributeSet struct {
	pairs []string
	m     map[string]string
}

func (s *attributeSet) attributes() map[string]string {
	if s.m == nil {
		s.m = make(map[string]string, len(s.pairs)/2)
		for i := 0; i+1 < len(s.pairs); i += 2 {
			s.m[s.pairs[i]] = s.pairs[i+1]
		}
	}
	return s.m
}

func (d *decoder) promotion(p *promotions.Promotion, m *promotions.Model) {
	p.ID, p.Name, p.Description = d.str(), d.str(), d.str()
	p.Status = promotions.Status(d.str())
	enum(d, "status", p.Status, promotions.StatusActive, promotions.StatusDeactivated)
	p.DeactivatedAt = d.optTime()
	p.Feature, p.FeatureType = d.str(), promotions.FeatureType(d.str())
	if f := m.Features[p.Feature]; d.err == nil && (f == nil || f.Type != p.FeatureType) {
		d.fail("promotion %q: feature %q is unknown or of another type", p.ID, p.Feature)
	}
	p.Window.Start, p.Window.End = d.optTime(), d.optTime()
	if d.bool() {
		p.Duration = &promotions.Duration{Value: int(d.int()), Unit: promotions.DurationUnit(d.str())}
		enum(d, "duration unit", p.Duration.Unit, promotions.UnitDays, promotions.UnitWeeks, promotions.UnitMonths, promotions.UnitYears)
		if p.Duration.Value < 0 || p.Duration.Value > 1_000_000 {
			d.fail("promotion %q: duration %d out of range", p.ID, p.Duration.Value)
		}
	}
	if d.bool() {
		mt := &promotions.Metered{Mode: promotions.Mode(d.str())}
		enum(d, "mode", mt.Mode, promotions.ModeAdditive, promotions.ModeOverride)
		if a := d.allowance(); a != nil {
			mt.Allowance = *a
		} else {
			d.fail("promotion %q: metered without an allowance", p.ID)
		}
		mt.Reset = promotions.Reset(d.str())
		d.reset(mt.Reset)
		p.Metered = mt
	}
	if d.err == nil && (p.Metered != nil) != (p.FeatureType == promotions.FeatureMetered) {
		d.fail("promotion %q: metered settings do not fit its feature type", p.ID)
	}
	if d.bool() {
		el := &promotions.Eligibility{}
		hasPlans := d.bool()
		el.Plans = d.strs()
		if hasPlans && el.Plans == nil {
			el.Plans = []string{}
		}
		hasAttrs := d.bool()
		if k := d.items(minAttrRule); k > 0 || hasAttrs {
			el.Attributes = make(map[string][]string, k)
			for range k {
				key := d.str()
				hasList := d.bool()
				list := d.strs()
				if hasList && list == nil {
					list = []string{}
				}
				el.Attributes[key] = list
			}
		}
		p.Eligibility = el
	}
	p.IsApplied = d.bool()
	if d.bool() {
		all := &promotions.AllGrant{GrantedAt: d.time()}
		all.RevokedAt = d.optTime()
		all.Previous = d.periods()
		p.Grants.All = all
	}
	hasList := d.bool()
	if k := d.items(minGrant); k > 0 || hasList {
		p.Grants.Customers = make([]promotions.CustomerGrant, k)
		for i := range p.Grants.Customers {
			g := &p.Grants.Customers[i]
			g.ID = d.str()
			g.State = promotions.GrantState(d.str())
			enum(d, "grant state", g.State, promotions.StateGranted, promotions.StateRevoked)
			g.GrantedAt = d.time()
			g.RevokedAt = d.optTime()
			g.Previous = d.periods()
		}
	}
	p.File = d.str()
}

// periods reads a grant's earlier periods; nil when there are none, as
// the decoder of a YAML file gives.
func (d *decoder) periods() []promotions.Period {
	n := d.items(minPeriod)
	if n == 0 {
		return nil
	}
	out := make([]promotions.Period, n)
	for i := range out {
		out[i].GrantedAt = d.time()
		out[i].RevokedAt = d.optTime()
	}
	return out
}

func (d *decoder) reset(r promotions.Reset) {
	enum(d, "reset", r, promotions.ResetNever, promotions.ResetDaily, promotions.ResetWeekly, promotions.ResetMonthly, promotions.ResetYearly)
}

// enum fails unless v is one of the allowed values.
func enum[T ~string](d *decoder, what string, v T, allowed ...T) {
	if d.err != nil {
		return
	}
	for _, a := range allowed {
		if a == v {
			return
		}
	}
	d.fail("unknown %s %q", what, v)
}
