package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

// SampleSize is how many ids a change set names for each group of changes.
const SampleSize = 5

// ChangeSet is what a change does to the config repo, for people reviewing a
// pull request.
type ChangeSet struct {
	Base string `json:"base"`
	Head string `json:"head"`
	// Valid is false when the head fails validation; Violations holds the
	// lock errors, Errors counts every error of the head.
	Valid      bool                        `json:"valid"`
	Errors     int                         `json:"errors"`
	Violations []promotions.JSONDiagnostic `json:"violations"`
	// Warnings are those on what the change adds (GRANT_BACKDATED,
	// WINDOW_CLOSED): valid, but worth a reviewer's second look.
	Warnings []promotions.JSONDiagnostic `json:"warnings"`
	// Incomplete is set when a tree could not be fully loaded, so that
	// customers, plans and features could not be compared.
	Incomplete bool              `json:"incomplete"`
	Promotions []PromotionChange `json:"promotions"`
	Customers  ObjectChanges     `json:"customers"`
	Plans      ObjectChanges     `json:"plans"`
	Features   ObjectChanges     `json:"features"`
}

// Empty reports whether the change touches nothing that a plan shows.
func (p *ChangeSet) Empty() bool {
	return len(p.Promotions) == 0 && p.Customers.Empty() && p.Plans.Empty() && p.Features.Empty()
}

// Change kinds of a promotion.
const (
	ChangeAdded   = "added"
	ChangeChanged = "changed"
	ChangeDeleted = "deleted"
)

// PromotionChange is one promotion the change adds, changes or deletes.
type PromotionChange struct {
	ID     string `json:"id"`
	File   string `json:"file"`
	Change string `json:"change"`
	// MovedFrom is the base file when the promotion moved.
	MovedFrom string `json:"moved_from,omitempty"`
	// Status is "deactivated" or "reactivated" when the status flipped.
	Status  promotions.Outcome `json:"status,omitempty"`
	Applied bool               `json:"applied"`
	Fields  []FieldChange      `json:"fields"`
	// Terms are an added promotion's fields as the head writes them
	// (grants aside), so a reviewer sees what is being offered.
	Terms  []Term       `json:"terms,omitempty"`
	Grants GrantChanges `json:"grants"`
}

// Term is one field of a promotion and its value as written.
type Term struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// FieldChange is one field's old and new value as written in the files;
// "absent" when the field is not set on that side.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// GrantChanges is the net effect of the change on each customer, one verb
// per customer however many edits led there: Granted (a new entry that
// ends granted), Renewed or Regranted (a new period after the base's last
// one expired, or was revoked), Revoked (granted in the base, or newly
// listed, and revoked in the head).
type GrantChanges struct {
	Granted   IDSample `json:"granted"`
	Revoked   IDSample `json:"revoked"`
	Regranted IDSample `json:"regranted"`
	Renewed   IDSample `json:"renewed"`
	Modified  IDSample `json:"modified"`
	Removed   IDSample `json:"removed"`
	// All describes a change of grants.all: granted, revoked, re-granted,
	// renewed or removed.
	All promotions.Outcome `json:"all,omitempty"`
}

// Empty reports whether no grant changed.
func (g GrantChanges) Empty() bool {
	return g.Granted.Count+g.Revoked.Count+g.Regranted.Count+g.Renewed.Count+g.Modified.Count+g.Removed.Count == 0 && g.All == ""
}

// IDSample is a count and the first few ids.
type IDSample struct {
	Count int      `json:"count"`
	IDs   []string `json:"ids"`
}

func (s *IDSample) add(id string) {
	s.Count++
	if len(s.IDs) < SampleSize {
		s.IDs = append(s.IDs, id)
	}
}

// MarshalJSON writes an empty list rather than null when no id changed.
func (s IDSample) MarshalJSON() ([]byte, error) {
	ids := s.IDs
	if ids == nil {
		ids = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the encoder that calls this decides about escaping
	err := enc.Encode(struct {
		Count int      `json:"count"`
		IDs   []string `json:"ids"`
	}{s.Count, ids})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func (s IDSample) String() string {
	out := fmt.Sprintf("%d", s.Count)
	if s.Count > 0 {
		out += " (" + strings.Join(s.IDs, ", ")
		if s.Count > len(s.IDs) {
			out += ", …"
		}
		out += ")"
	}
	return out
}

// ObjectChanges lists ids added, removed and changed.
type ObjectChanges struct {
	Added   IDSample `json:"added"`
	Removed IDSample `json:"removed"`
	Changed IDSample `json:"changed"`
}

// Empty reports whether nothing changed.
func (o ObjectChanges) Empty() bool { return o.Added.Count+o.Removed.Count+o.Changed.Count == 0 }

// Diff loads head against base (like LoadWithBase) and describes what the
// change does. The labels name the two sides in the output.
func Diff(head, base fs.FS, opts Options, baseLabel, headLabel string) (*ChangeSet, error) {
	if opts.Limits == (promotions.Limits{}) {
		opts.Limits = promotions.DefaultLimits
	}
	c, err := compare(head, base, opts, true)
	if err != nil {
		return nil, err
	}
	p := &ChangeSet{Base: baseLabel, Head: headLabel, Valid: c.head.OK(), Violations: []promotions.JSONDiagnostic{}, Promotions: []PromotionChange{}}
	p.Errors = len(c.head.Diagnostics.Errors())
	p.Warnings = []promotions.JSONDiagnostic{}
	for _, d := range c.added {
		p.Warnings = append(p.Warnings, d.JSON())
	}
	for _, d := range c.lock {
		p.Violations = append(p.Violations, d.JSON())
	}
	sort.SliceStable(p.Violations, func(i, j int) bool {
		a, b := p.Violations[i], p.Violations[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})

	ids := map[string]bool{}
	for id := range c.baseIdx {
		ids[id] = true
	}
	for id := range c.headIdx {
		ids[id] = true
	}
	for _, id := range promotions.SortedKeys(ids) {
		if ch, ok := c.promotionChange(id, opts.Limits); ok {
			p.Promotions = append(p.Promotions, ch)
		}
	}

	if c.base.Model == nil || c.head.Model == nil {
		p.Incomplete = true
		return p, nil
	}
	bm, hm := c.base.Model, c.head.Model
	p.Customers = objectChanges(bm.Customers, hm.Customers, func(a, b *promotions.Customer) bool {
		return a.Name == b.Name && a.Email == b.Email && a.Plan == b.Plan && reflect.DeepEqual(a.Attributes, b.Attributes)
	})
	p.Plans = objectChanges(bm.Plans, hm.Plans, func(a, b *promotions.Plan) bool {
		return a.Name == b.Name && reflect.DeepEqual(a.Entitlements, b.Entitlements)
	})
	p.Features = objectChanges(bm.Features, hm.Features, func(a, b *promotions.Feature) bool {
		return a.Name == b.Name && a.Type == b.Type && a.Unit == b.Unit
	})
	return p, nil
}

func objectChanges[T any](base, head map[string]T, same func(a, b T) bool) ObjectChanges {
	var o ObjectChanges
	for _, k := range promotions.SortedKeys(head) {
		old, ok := base[k]
		switch {
		case !ok:
			o.Added.add(k)
		case !same(old, head[k]):
			o.Changed.add(k)
		}
	}
	for _, k := range promotions.SortedKeys(base) {
		if _, ok := head[k]; !ok {
			o.Removed.add(k)
		}
	}
	return o
}

func (c *comparison) promotionChange(id string, lim promotions.Limits) (PromotionChange, bool) {
	b, inBase := c.baseIdx[id]
	h, inHead := c.headIdx[id]
	switch {
	case !inBase:
		ch := PromotionChange{ID: id, File: h.File, Change: ChangeAdded, Applied: h.Applied, Fields: []FieldChange{}}
		if doc := readDoc(c.headFS, h.File, lim); doc != nil {
			ch.Grants = grantChanges(&yamldoc.Document{Value: map[string]any{}}, doc)
			ch.Terms = terms(doc.Value)
		}
		return ch, true
	case !inHead:
		return PromotionChange{ID: id, File: b.File, Change: ChangeDeleted, Applied: b.Applied, Fields: []FieldChange{}}, true
	}
	pair, changed := c.pairs[id]
	if !changed && b.File == h.File {
		return PromotionChange{}, false
	}
	ch := PromotionChange{ID: id, File: h.File, Change: ChangeChanged, Applied: h.Applied, Fields: []FieldChange{}}
	if b.File != h.File {
		ch.MovedFrom = b.File
	}
	if !changed {
		return ch, true // moved, content unchanged
	}
	ch.Fields = fieldChanges(pair.old.Value, pair.new.Value)
	oldStatus, newStatus := statusOf(pair.old.Value), statusOf(pair.new.Value)
	switch {
	case oldStatus != promotions.StatusDeactivated && newStatus == promotions.StatusDeactivated:
		ch.Status = promotions.OutcomeDeactivated
	case oldStatus == promotions.StatusDeactivated && newStatus != promotions.StatusDeactivated:
		ch.Status = promotions.OutcomeReactivated
	}
	ch.Grants = grantChanges(pair.old, pair.new)
	return ch, true
}

// terms lists a promotion's fields in the order of the file format, but
// kind, id, is_applied and grants (said elsewhere).
func terms(v map[string]any) []Term {
	out := []Term{}
	for _, f := range []string{"name", "description", "status", "deactivated_at", "feature", "feature_type", "window", "duration", "metered", "eligibility"} {
		if val, ok := v[f]; ok {
			out = append(out, Term{Field: f, Value: schema.RenderValue(val)})
		}
	}
	return out
}

func readDoc(fsys fs.FS, file string, lim promotions.Limits) *yamldoc.Document {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil
	}
	doc, _ := yamldoc.ParseDocument(file, src, lim)
	return doc
}

func statusOf(v map[string]any) promotions.Status {
	if s, ok := v["status"].(string); ok {
		return promotions.Status(s)
	}
	return promotions.DefaultStatus
}

// fieldChanges compares every field but kind and grants, leaf by leaf in
// the lock's canonical form, so a diff shows a change exactly when the
// meaning changed. A field added or removed as a whole is one change.
func fieldChanges(old, cur map[string]any) []FieldChange {
	old, cur = withDefaults(old), withDefaults(cur)
	fields := map[string]bool{}
	for k := range old {
		fields[k] = true
	}
	for k := range cur {
		fields[k] = true
	}
	delete(fields, "kind")
	delete(fields, "grants")
	out := []FieldChange{}
	for _, f := range promotions.SortedKeys(fields) {
		oldLeaves, newLeaves := schema.Flatten(old, []string{f}), schema.Flatten(cur, []string{f})
		if len(oldLeaves) == 0 || len(newLeaves) == 0 {
			if len(oldLeaves)+len(newLeaves) > 0 {
				out = append(out, FieldChange{Field: f, Old: renderField(old, f, oldLeaves), New: renderField(cur, f, newLeaves)})
			}
			continue
		}
		oldBy, newBy := leavesByKey(oldLeaves), leavesByKey(newLeaves)
		keys := map[string]bool{}
		for k := range oldBy {
			keys[k] = true
		}
		for k := range newBy {
			keys[k] = true
		}
		for _, k := range promotions.SortedKeys(keys) {
			o, inOld := oldBy[k]
			n, inNew := newBy[k]
			if inOld && inNew && reflect.DeepEqual(o.Value, n.Value) {
				continue
			}
			fc := FieldChange{Field: k, Old: "absent", New: "absent"}
			if inOld {
				fc.Old = schema.RenderValue(o.Raw)
			}
			if inNew {
				fc.New = schema.RenderValue(n.Raw)
			}
			out = append(out, fc)
		}
	}
	return out
}

// withDefaults fills in the schema's defaults, so that a status written
// out as active is no change from one left out.
func withDefaults(v map[string]any) map[string]any {
	if _, ok := v["status"]; ok {
		return v
	}
	out := make(map[string]any, len(v)+1)
	for k, e := range v {
		out[k] = e
	}
	out["status"] = string(promotions.DefaultStatus)
	return out
}

func renderField(v map[string]any, field string, leaves []schema.Leaf) string {
	if len(leaves) == 0 {
		return "absent"
	}
	return schema.RenderValue(v[field])
}

func leavesByKey(leaves []schema.Leaf) map[string]schema.Leaf {
	m := make(map[string]schema.Leaf, len(leaves))
	for _, l := range leaves {
		m[l.Key] = l
	}
	return m
}

func grantChanges(oldDoc, newDoc *yamldoc.Document) GrantChanges {
	old, cur := yamldoc.DecodePromotion(oldDoc), yamldoc.DecodePromotion(newDoc)
	var g GrantChanges
	before := make(map[string]promotions.CustomerGrant, len(old.Grants.Customers))
	for _, e := range old.Grants.Customers {
		if _, dup := before[e.ID]; !dup {
			before[e.ID] = e
		}
	}
	seen := make(map[string]bool, len(cur.Grants.Customers))
	for _, e := range cur.Grants.Customers {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		prev, ok := before[e.ID]
		switch {
		case !ok && e.State == promotions.StateRevoked:
			g.Revoked.add(e.ID)
		case !ok:
			g.Granted.add(e.ID)
		case len(e.Previous) > len(prev.Previous) && e.State == promotions.StateRevoked:
			if prev.State == promotions.StateRevoked {
				continue // re-granted and revoked again: revoked before and after
			}
			g.Revoked.add(e.ID)
		case len(e.Previous) > len(prev.Previous):
			if newPeriod(&cur, prev.Periods(), e.Periods()) == promotions.OutcomeRenewed {
				g.Renewed.add(e.ID)
			} else {
				g.Regranted.add(e.ID)
			}
		case prev.State == promotions.StateGranted && e.State == promotions.StateRevoked:
			g.Revoked.add(e.ID)
		case prev.State == promotions.StateRevoked && e.State == promotions.StateGranted:
			g.Regranted.add(e.ID)
		case !prev.GrantedAt.Equal(e.GrantedAt) || !sameTime(prev.RevokedAt, e.RevokedAt):
			g.Modified.add(e.ID)
		}
	}
	for _, e := range old.Grants.Customers {
		if !seen[e.ID] {
			seen[e.ID] = true
			g.Removed.add(e.ID)
		}
	}
	oa, na := old.Grants.All, cur.Grants.All
	switch {
	case oa == nil && na != nil:
		g.All = promotions.OutcomeGranted
		if na.RevokedAt != nil {
			g.All = promotions.OutcomeGrantedAndRevoked
		}
	case oa != nil && na == nil:
		g.All = promotions.OutcomeRemoved
	case oa != nil && len(na.Previous) > len(oa.Previous):
		g.All = newPeriod(&cur, oa.Periods(), na.Periods())
	case oa != nil && oa.RevokedAt == nil && na.RevokedAt != nil:
		g.All = promotions.OutcomeRevoked
	case oa != nil && oa.RevokedAt != nil && na.RevokedAt == nil:
		g.All = promotions.OutcomeRegranted
	case oa != nil && (!oa.GrantedAt.Equal(na.GrantedAt) || !sameTime(oa.RevokedAt, na.RevokedAt)):
		g.All = promotions.OutcomeModified
	}
	return g
}

// newPeriod names the start of a period after the base's last one
// (docs/apply-flow.md).
func newPeriod(p *promotions.Promotion, base, head []promotions.Period) promotions.Outcome {
	return p.NewPeriodOutcome(head[len(base)-1]) // the base's last period as the head keeps it
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
