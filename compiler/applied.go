package compiler

import (
	"bytes"
	"fmt"
	"io/fs"
	"time"

	"github.com/promoctl/promoctl/internal/treefs"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

// LoadWithBase loads head like Load, with base's model deciding which
// grants are new, and adds the diagnostics of the is_applied lock (docs/rules.md):
// LOCKED_FIELD (a Feature's usage block too, once an applied promotion is
// for it), APPLIED_UNLOCKED, APPLIED_DELETED, GRANT_REMOVED and
// GRANT_HISTORY_CHANGED; and the warnings on what the change adds,
// GRANT_BACKDATED and WINDOW_CLOSED, against opts.Now.
// Promotions are paired by id, so moving a file is not a change. The base
// is not validated: its problems are not the change's.
func LoadWithBase(head, base fs.FS, opts Options) (*Result, error) {
	c, err := compare(head, base, opts, false)
	if err != nil {
		return nil, err
	}
	return c.head, nil
}

// comparison is a head tree loaded against a base tree.
type comparison struct {
	base, head     *Result
	baseFS, headFS fs.FS
	baseIdx        map[string]promotionFile
	headIdx        map[string]promotionFile
	// pairs holds, by id, the promotions present on both sides whose
	// files differ; only applied ones unless every pair was asked for.
	pairs map[string]promotionPair
	lock  promotions.Diagnostics
	// added are the warnings on what the change adds (GRANT_BACKDATED,
	// WINDOW_CLOSED), positioned.
	added promotions.Diagnostics
}

type promotionFile struct {
	File    string
	Applied bool
}

type promotionPair struct {
	old, new *yamldoc.Document
}

func compare(head, base fs.FS, opts Options, allPairs bool) (*comparison, error) {
	if opts.Limits == (promotions.Limits{}) {
		opts.Limits = promotions.DefaultLimits
	}
	// Most files of a pull request are the same in base and head: one
	// shared cache parses each distinct content once.
	if opts.Cache == nil {
		opts.Cache = newSharedCache()
	}
	baseOpts := opts
	baseOpts.Base = nil
	baseOpts.modelOnly = true
	if g, ok := base.(*treefs.Git); ok {
		base = g.SameAsHead(head)
	}
	baseRes, err := Load(base, baseOpts)
	if err != nil {
		return nil, fmt.Errorf("load base: %w", err)
	}
	headOpts := opts
	headOpts.Base = baseRes.Model
	headRes, err := Load(head, headOpts)
	if err != nil {
		return nil, err
	}
	c := &comparison{base: baseRes, head: headRes, baseFS: base, headFS: head, pairs: map[string]promotionPair{}}
	if c.baseIdx, err = promotionIndex(base, baseRes, opts.Limits); err != nil {
		return nil, fmt.Errorf("load base: %w", err)
	}
	if c.headIdx, err = promotionIndex(head, headRes, opts.Limits); err != nil {
		return nil, err
	}
	var sch *schema.Schema // compiled on first use: most changes leave applied promotions alone
	for _, id := range promotions.SortedKeys(c.baseIdx) {
		b := c.baseIdx[id]
		h, inHead := c.headIdx[id]
		if !b.Applied && (!allPairs || !inHead) {
			continue
		}
		if !inHead {
			c.lock = append(c.lock, deletedDiagnostic(base, id, b.File, opts.Limits))
			continue
		}
		pair, changed, err := readPair(base, head, b.File, h.File, opts.Limits)
		if err != nil {
			return nil, err
		}
		if !changed || pair.old == nil || pair.new == nil {
			continue // identical bytes cannot break the lock; unparsable ones are reported by the load
		}
		c.pairs[id] = pair
		if b.Applied {
			if sch == nil {
				if sch, err = schema.Compile(); err != nil {
					return nil, err
				}
			}
			c.lock = append(c.lock, sch.CheckTransition(pair.old, pair.new)...)
			c.lock = append(c.lock, grantHistory(id, pair)...)
		}
	}
	if baseRes.Model != nil && headRes.Model != nil {
		c.lock = append(c.lock, position(head, featureUsageLocks(baseRes.Model, headRes.Model), opts.Limits)...)
	}
	headRes.Diagnostics = append(headRes.Diagnostics, c.lock...)
	if baseRes.Model != nil && headRes.Model != nil {
		now := opts.Now
		if now.IsZero() {
			now = time.Now()
		}
		c.added = position(head, addedWarnings(baseRes.Model, headRes.Model, now), opts.Limits)
		c.added.Sort()
		headRes.Diagnostics = append(headRes.Diagnostics, c.added...)
	}
	headRes.Diagnostics.Sort()
	return c, nil
}

// promotionIndex maps promotion ids to their files. A valid tree's model
// knows them; otherwise the promotion files are read on their own, so the
// lock still holds while another file of the tree is broken.
func promotionIndex(fsys fs.FS, res *Result, lim promotions.Limits) (map[string]promotionFile, error) {
	idx := map[string]promotionFile{}
	if res.Model != nil {
		for id, p := range res.Model.Promotions {
			idx[id] = promotionFile{File: p.File, Applied: p.IsApplied}
		}
		return idx, nil
	}
	files, err := ConfigFiles(fsys)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		doc, _ := yamldoc.ParseDocument(f, src, lim)
		if doc == nil || doc.Kind != promotions.KindPromotion {
			continue
		}
		id, ok := doc.Value["id"].(string)
		if _, dup := idx[id]; !ok || dup {
			continue // the first definition wins, as in the model
		}
		applied, _ := doc.Value["is_applied"].(bool)
		idx[id] = promotionFile{File: f, Applied: applied}
	}
	return idx, nil
}

// readPair reads a promotion's base and head files and parses them when
// their bytes differ.
func readPair(base, head fs.FS, baseFile, headFile string, lim promotions.Limits) (promotionPair, bool, error) {
	oldSrc, err := fs.ReadFile(base, baseFile)
	if err != nil {
		return promotionPair{}, false, fmt.Errorf("read base %s: %w", baseFile, err)
	}
	newSrc, err := fs.ReadFile(head, headFile)
	if err != nil {
		return promotionPair{}, false, fmt.Errorf("read %s: %w", headFile, err)
	}
	if bytes.Equal(oldSrc, newSrc) {
		return promotionPair{}, baseFile != headFile, nil
	}
	var p promotionPair
	p.old, _ = yamldoc.ParseDocument(baseFile, oldSrc, lim)
	p.new, _ = yamldoc.ParseDocument(headFile, newSrc, lim)
	return p, true, nil
}

func deletedDiagnostic(base fs.FS, id, file string, lim promotions.Limits) promotions.Diagnostic {
	d := promotions.ErrorAt(promotions.CodeAppliedDeleted, file, promotions.P("id"),
		"promotion %s is applied in the base (this position is in the base revision's %s) but missing from the head: "+
			"it was deleted or its id changed; applied promotions stay, deactivate it instead", id, file)
	if src, err := fs.ReadFile(base, file); err == nil {
		if doc, _ := yamldoc.ParseDocument(file, src, lim); doc != nil {
			return doc.Position(d)
		}
	}
	d.Line, d.Column = 1, 1
	return d
}

// grantHistory reports customer entries (and grants.all) of the base that
// the head dropped (GRANT_REMOVED) or whose history it rewrote
// (GRANT_HISTORY_CHANGED): the file is the audit trail, so grants are
// revoked, never removed, and periods are only ever appended — the base's
// last period may only gain a revoked_at.
func grantHistory(id string, pair promotionPair) promotions.Diagnostics {
	old, cur := yamldoc.DecodePromotion(pair.old), yamldoc.DecodePromotion(pair.new)
	inHead := make(map[string]int, len(cur.Grants.Customers))
	for i, g := range cur.Grants.Customers {
		if _, dup := inHead[g.ID]; !dup {
			inHead[g.ID] = i
		}
	}
	var out promotions.Diagnostics
	report := func(d promotions.Diagnostic) { out = append(out, pair.new.Position(d)) }
	reported := make(map[string]bool)
	for _, g := range old.Grants.Customers {
		if reported[g.ID] {
			continue // report a duplicated base entry once
		}
		reported[g.ID] = true
		i, ok := inHead[g.ID]
		if !ok {
			report(promotions.ErrorAt(promotions.CodeGrantRemoved, pair.new.File, promotions.P("grants", "customers"),
				"customer %s (%s since %s in the base) was removed from grants.customers of %s; revoke it instead (state: revoked, revoked_at): the file is the audit trail",
				g.ID, g.State, ts(g.GrantedAt), id))
			continue
		}
		h := cur.Grants.Customers[i]
		if d, bad := historyChanged(pair.new.File, promotions.P("grants", "customers", i), "customer "+g.ID, g.Periods(), h.Periods()); bad {
			report(d)
		}
	}
	switch {
	case old.Grants.All != nil && cur.Grants.All == nil:
		report(promotions.ErrorAt(promotions.CodeGrantRemoved, pair.new.File, promotions.P("grants", "all"),
			"grants.all (granted at %s in the base) was removed from %s; set revoked_at instead: the file is the audit trail",
			ts(old.Grants.All.GrantedAt), id))
	case old.Grants.All != nil:
		if d, bad := historyChanged(pair.new.File, promotions.P("grants", "all"), "grants.all", old.Grants.All.Periods(), cur.Grants.All.Periods()); bad {
			report(d)
		}
	}
	return out
}

// historyChanged checks that the base periods are an unchanged prefix of
// the head's, but for a revoked_at added to the base's last period. The
// diagnostic points at the first head period that differs (the entry
// itself when periods were removed).
func historyChanged(file string, entry promotions.Path, who string, base, head []promotions.Period) (promotions.Diagnostic, bool) {
	at := func(j int) promotions.Path {
		if j < len(head)-1 {
			return entry.Key("previous").Index(j)
		}
		return entry.Key("granted_at")
	}
	for j, b := range base {
		if j >= len(head) {
			return promotions.ErrorAt(promotions.CodeGrantHistoryChanged, file, entry,
				"%s had %d period(s) in the base but has %d: period %d (granted at %s) was removed; periods are only ever added (revoke instead)",
				who, len(base), len(head), j+1, ts(b.GrantedAt)), true
		}
		h := head[j]
		last := j == len(base)-1
		sameRevoke := (b.RevokedAt == nil && h.RevokedAt == nil) ||
			(b.RevokedAt != nil && h.RevokedAt != nil && b.RevokedAt.Equal(*h.RevokedAt)) ||
			(last && b.RevokedAt == nil)
		if h.GrantedAt.Equal(b.GrantedAt) && sameRevoke {
			continue
		}
		return promotions.ErrorAt(promotions.CodeGrantHistoryChanged, file, at(j),
			"period %d of %s was %s in the base but is %s: grant history is append-only (the last period may only gain a revoked_at; a renewal adds a period)",
			j+1, who, periodString(b), periodString(h)), true
	}
	return promotions.Diagnostic{}, false
}

func periodString(p promotions.Period) string {
	if p.RevokedAt == nil {
		return "granted at " + ts(p.GrantedAt)
	}
	return "granted at " + ts(p.GrantedAt) + ", revoked at " + ts(*p.RevokedAt)
}
