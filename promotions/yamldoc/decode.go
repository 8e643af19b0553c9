package yamldoc

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// The decoders below read a document's value tree after the schema has
// accepted it, so shapes and types are known to be right; a value of an
// unexpected type decodes as its zero value rather than failing twice.

// DecodeFeature reads a Feature document.
func DecodeFeature(doc *Document) promotions.Feature {
	m := doc.Value
	f := promotions.Feature{
		Key:  str(m, "key"),
		Name: str(m, "name"),
		Type: promotions.FeatureType(str(m, "type")),
		Unit: str(m, "unit"),
		File: doc.File,
	}
	if u, ok := m["usage"].(map[string]any); ok {
		f.Usage = &promotions.FeatureUsage{
			Overage:        promotions.Overage(str(u, "overage")),
			OnStoreFailure: promotions.StoreFailure(str(u, "on_store_failure")),
		}
	}
	return f
}

// DecodePlan reads a Plan document.
func DecodePlan(doc *Document) promotions.Plan {
	m := doc.Value
	p := promotions.Plan{Key: str(m, "key"), Name: str(m, "name"), File: doc.File}
	for _, e := range maps(m["entitlements"]) {
		pe := promotions.PlanEntitlement{Feature: str(e, "feature"), Reset: promotions.Reset(str(e, "reset"))}
		if a, ok := allowance(e["allowance"]); ok {
			pe.Allowance = &a
		}
		p.Entitlements = append(p.Entitlements, pe)
	}
	return p
}

// DecodeCustomers reads a Customers document.
func DecodeCustomers(doc *Document) promotions.CustomersFile {
	list := maps(doc.Value["customers"])
	cf := promotions.CustomersFile{File: doc.File, Customers: make([]promotions.Customer, 0, len(list))}
	// Plans and attributes repeat across thousands of customers: one copy
	// of each string per file.
	shared := map[string]string{}
	intern := func(s string) string {
		if v, ok := shared[s]; ok {
			return v
		}
		shared[s] = s
		return s
	}
	// Customers with the same attributes share one read-only map: a
	// directory holds a handful of distinct sets (region × segment …) over
	// thousands of customers, and each map costs ~300 bytes.
	sets := map[string]map[string]string{}
	var (
		key   []byte
		names []string
	)
	text := make([]string, 0, 3*len(list))
	for _, c := range list {
		text = append(text, str(c, "id"), str(c, "name"), str(c, "email"))
	}
	text = packStrings(text)
	for i, c := range list {
		cust := promotions.Customer{
			ID:            text[3*i],
			Name:          text[3*i+1],
			Email:         text[3*i+2],
			Plan:          intern(str(c, "plan")),
			BillingAnchor: timePtr(c, "billing_anchor"),
			File:          doc.File,
			Index:         i,
		}
		if attrs, ok := c["attributes"].(map[string]any); ok && len(attrs) > 0 {
			key = attributeSetKey(key[:0], attrs, &names)
			set, seen := sets[string(key)]
			if !seen {
				set = make(map[string]string, len(attrs))
				for k, v := range attrs {
					if s, ok := v.(string); ok {
						set[intern(k)] = intern(s)
					}
				}
				sets[string(key)] = set
			}
			cust.Attributes = set
		}
		cf.Customers = append(cf.Customers, cust)
	}
	return cf
}

// attributeSetKey appends a canonical key of the string-valued entries of
// attrs; names is scratch space.
func attributeSetKey(buf []byte, attrs map[string]any, names *[]string) []byte {
	*names = (*names)[:0]
	for k, v := range attrs {
		if _, ok := v.(string); ok {
			*names = append(*names, k)
		}
	}
	sort.Strings(*names)
	for _, k := range *names {
		v := attrs[k].(string)
		buf = strconv.AppendInt(buf, int64(len(k)), 10)
		buf = append(buf, ':')
		buf = append(buf, k...)
		buf = strconv.AppendInt(buf, int64(len(v)), 10)
		buf = append(buf, ':')
		buf = append(buf, v...)
	}
	return buf
}

// packStrings copies strs into one backing string and returns them as
// slices of it. The parser allocates every scalar next to its own syntax
// tree, which is garbage once a file is decoded; kept one by one, the ids,
// names and emails of a million customers held whole spans of that garbage
// alive (~385 MiB of an L sidecar's heap). Packed, each file's strings sit
// together.
func packStrings(strs []string) []string {
	size := 0
	for _, s := range strs {
		size += len(s)
	}
	var b strings.Builder
	b.Grow(size)
	for _, s := range strs {
		b.WriteString(s)
	}
	backing, at := b.String(), 0
	out := strs[:0]
	for _, s := range strs {
		out = append(out, backing[at:at+len(s)])
		at += len(s)
	}
	return out
}

// grantState returns the package's constant for the two valid states, so
// that a million grants do not each keep their own copy of the word.
func grantState(s string) promotions.GrantState {
	switch promotions.GrantState(s) {
	case promotions.StateGranted:
		return promotions.StateGranted
	case promotions.StateRevoked:
		return promotions.StateRevoked
	}
	return promotions.GrantState(s)
}

// DecodePromotion reads a PromotionalEntitlement document.
func DecodePromotion(doc *Document) promotions.Promotion {
	m := doc.Value
	p := promotions.Promotion{
		ID:            str(m, "id"),
		Name:          str(m, "name"),
		Description:   str(m, "description"),
		Status:        promotions.Status(str(m, "status")),
		DeactivatedAt: timePtr(m, "deactivated_at"),
		Feature:       str(m, "feature"),
		FeatureType:   promotions.FeatureType(str(m, "feature_type")),
		File:          doc.File,
	}
	if p.Status == "" {
		p.Status = promotions.DefaultStatus
	}
	p.IsApplied, _ = m["is_applied"].(bool)
	if w, ok := m["window"].(map[string]any); ok {
		p.Window = promotions.Window{Start: timePtr(w, "start"), End: timePtr(w, "end")}
	}
	if d, ok := m["duration"].(map[string]any); ok {
		n, _ := toInt64(d["value"])
		p.Duration = &promotions.Duration{Value: int(n), Unit: promotions.DurationUnit(str(d, "unit"))}
	}
	if mt, ok := m["metered"].(map[string]any); ok {
		a, _ := allowance(mt["allowance"])
		p.Metered = &promotions.Metered{Mode: promotions.Mode(str(mt, "mode")), Allowance: a, Reset: promotions.Reset(str(mt, "reset"))}
	}
	if e, ok := m["eligibility"].(map[string]any); ok {
		el := &promotions.Eligibility{Plans: strs(e["plans"])}
		if attrs, ok := e["attributes"].(map[string]any); ok {
			el.Attributes = make(map[string][]string, len(attrs))
			for k, v := range attrs {
				el.Attributes[k] = strs(v)
			}
		}
		p.Eligibility = el
	}
	if g, ok := m["grants"].(map[string]any); ok {
		if all, ok := g["all"].(map[string]any); ok {
			p.Grants.All = &promotions.AllGrant{GrantedAt: timeVal(all, "granted_at"), RevokedAt: timePtr(all, "revoked_at"), Previous: periods(all["previous"])}
		}
		list := maps(g["customers"])
		ids := make([]string, len(list))
		for i, c := range list {
			ids[i] = str(c, "id")
		}
		ids = packStrings(ids)
		p.Grants.Customers = make([]promotions.CustomerGrant, 0, len(list))
		for i, c := range list {
			p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{
				ID:        ids[i],
				State:     grantState(str(c, "state")),
				GrantedAt: timeVal(c, "granted_at"),
				RevokedAt: timePtr(c, "revoked_at"),
				Previous:  periods(c["previous"]),
			})
		}
	}
	return p
}

// periods reads a grant's previous periods; nil when there are none, so
// that a grant without history costs nothing more.
func periods(v any) []promotions.Period {
	list, _ := v.([]any)
	if len(list) == 0 {
		return nil
	}
	out := make([]promotions.Period, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, promotions.Period{GrantedAt: timeVal(m, "granted_at"), RevokedAt: timePtr(m, "revoked_at")})
	}
	return out
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func maps(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

func allowance(v any) (promotions.Allowance, bool) {
	if s, ok := v.(string); ok && s == "unlimited" {
		return promotions.UnlimitedAllowance, true
	}
	n, ok := toInt64(v)
	return promotions.Allowance{Value: n}, ok
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		if n > 1<<62 {
			return 1 << 62, true
		}
		return int64(n), true
	case int:
		return int64(n), true
	}
	return 0, false
}

func timeVal(m map[string]any, key string) time.Time {
	s, _ := m[key].(string)
	t, _ := promotions.ParseInstant(s)
	return t
}

func timePtr(m map[string]any, key string) *time.Time {
	s, ok := m[key].(string)
	if !ok {
		return nil
	}
	t, err := promotions.ParseInstant(s)
	if err != nil {
		return nil
	}
	return &t
}
