package snapshot_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
	"github.com/promoctl/promoctl/promotions/repogen"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// -incremental.steps lengthens the property test; `make fuzz` runs it long.
var incrementalSteps = flag.Int("incremental.steps", 12, "edits per sequence in TestIncrementalEqualsFresh")

// TestIncrementalEqualsFresh is the property behind every sidecar reload:
// after any sequence of edits to a repo, loading it with the load cache
// and updating the serving snapshot (what a reload does) gives the same
// diagnostics, the same rows and the same decisions as loading it afresh
// and building from scratch. Edits are drawn at random from every kind of
// change a repo sees — grants, revocations, promotion fields, new,
// deleted and moved promotion files, customers added, removed and moved
// to another plan, plan allowances, eligibility, feature type flips —
// including ones that make the repo invalid for a while.
func TestIncrementalEqualsFresh(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, repogen.Generate(dir, repogen.Tiny))
			r := &repoEditor{t: t, dir: dir, rng: rand.New(rand.NewPCG(seed, seed*7919))}

			cache := compiler.NewCache()
			var serving *snapshot.Snapshot
			compared, broken := 0, 0
			var done []string
			check := func(step int, what string) bool {
				incremental, err := compiler.Load(os.DirFS(dir), compiler.Options{Cache: cache})
				require.NoError(t, err)
				fresh, err := compiler.Load(os.DirFS(dir), compiler.Options{})
				require.NoError(t, err)
				require.Equal(t, diagnostics(fresh.Diagnostics), diagnostics(incremental.Diagnostics), "step %d (%s): diagnostics", step, what)
				require.Equal(t, fresh.OK(), incremental.OK(), "step %d (%s)", step, what)
				if !incremental.OK() {
					return false // a reload keeps the last good snapshot
				}
				serving, err = snapshot.Update(serving, incremental.Model, "r")
				require.NoError(t, err)
				built, err := snapshot.Build(fresh.Model, "r")
				require.NoError(t, err)
				require.Equal(t, built.Counts, serving.Counts, "step %d (%s): counts", step, what)
				require.Equal(t, snapshot.Dump(built), snapshot.Dump(serving), "step %d (%s): rows", step, what)
				require.Equal(t, decisions(t, built, fresh.Model), decisions(t, serving, incremental.Model), "step %d (%s): decisions", step, what)
				compared++
				return true
			}
			for step := 0; step < *incrementalSteps; step++ {
				what := r.edit()
				done = append(done, what)
				if !check(step, what) {
					broken++
					// Broken for one reload, then mended: the cache and the
					// serving snapshot must recover from the failure too.
					r.undo()
					require.True(t, check(step, "undo "+what), "undoing %s leaves a valid repo", what)
				}
				r.undoLog = nil
			}
			t.Logf("%d edits (%d broke the repo for one reload and were undone), %d valid states compared: %s",
				*incrementalSteps, broken, compared, strings.Join(done, ", "))
		})
	}
}

func diagnostics(ds promotions.Diagnostics) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.String())
	}
	slices.Sort(out)
	return out
}

// decisions answers every feature for a sample of customers at instants
// around the generator's dates.
func decisions(t *testing.T, s *snapshot.Snapshot, m *promotions.Model) map[string]string {
	t.Helper()
	customers := m.CustomerIDs()
	sample := []string{"cus_unknown"}
	for i := 0; i < len(customers); i += 7 {
		sample = append(sample, customers[i])
	}
	out := map[string]string{}
	for _, at := range []time.Time{repogen.HotAt.AddDate(0, -2, 0), repogen.HotAt, repogen.HotAt.AddDate(0, 3, 0)} {
		for _, c := range sample {
			for _, f := range promotions.SortedKeys(m.Features) {
				d, err := evaluator.Decide(s, evaluator.Query{Customer: c, Feature: f, At: at})
				require.NoError(t, err)
				body, err := json.Marshal(d)
				require.NoError(t, err)
				out[at.Format(time.RFC3339)+" "+c+" "+f] = string(body)
			}
		}
	}
	return out
}

// repoEditor makes random edits to a generated repo on disk.
type repoEditor struct {
	t   *testing.T
	dir string
	rng *rand.Rand
	n   int // new ids
	// undoLog holds each file's content before the current edit (nil for
	// a file the edit created).
	undoLog map[string][]byte
}

// remember records file's content before its first change in this edit.
func (r *repoEditor) remember(file string) {
	if r.undoLog == nil {
		r.undoLog = map[string][]byte{}
	}
	if _, ok := r.undoLog[file]; ok {
		return
	}
	src, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(file)))
	if err != nil {
		src = nil
	}
	r.undoLog[file] = src
}

// undo restores every file the current edit touched.
func (r *repoEditor) undo() {
	for file, src := range r.undoLog {
		p := filepath.Join(r.dir, filepath.FromSlash(file))
		if src == nil {
			require.NoError(r.t, os.Remove(p))
			continue
		}
		require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(r.t, os.WriteFile(p, src, 0o644))
	}
	r.undoLog = nil
}

// remove deletes file, remembering it for undo.
func (r *repoEditor) remove(file string) {
	r.remember(file)
	require.NoError(r.t, os.Remove(filepath.Join(r.dir, filepath.FromSlash(file))))
}

func (r *repoEditor) edit() string {
	edits := []struct {
		name string
		do   func() bool
	}{
		{"grant", r.grant}, {"revoke", r.revoke}, {"rename promotion", r.renamePromotion},
		{"change allowance", r.promotionAllowance}, {"add promotion", r.addPromotion},
		{"delete promotion", r.deletePromotion}, {"move promotion file", r.movePromotion},
		{"customer changes plan", r.customerPlan}, {"add customer", r.addCustomer},
		{"remove customer", r.removeCustomer}, {"plan allowance", r.planAllowance},
		{"eligibility", r.eligibility}, {"feature type flip", r.flipFeatureType},
	}
	for {
		e := edits[r.rng.IntN(len(edits))]
		if e.do() {
			return e.name
		}
	}
}

func (r *repoEditor) files(sub string) []string {
	var out []string
	require.NoError(r.t, filepath.WalkDir(filepath.Join(r.dir, sub), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			rel, _ := filepath.Rel(r.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	}))
	slices.Sort(out)
	return out
}

func (r *repoEditor) pick(list []string) string { return list[r.rng.IntN(len(list))] }

func (r *repoEditor) read(file string) []byte {
	src, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(file)))
	require.NoError(r.t, err)
	return src
}

func (r *repoEditor) write(file string, src []byte) {
	r.remember(file)
	p := filepath.Join(r.dir, filepath.FromSlash(file))
	require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(r.t, os.WriteFile(p, src, 0o644))
}

// model loads the repo as it is now (nil when it does not load).
func (r *repoEditor) model() *promotions.Model {
	res, err := compiler.Load(os.DirFS(r.dir), compiler.Options{})
	require.NoError(r.t, err)
	return res.Model
}

// editFile applies one Editor change to file; false when the editor
// refuses it (a layout it does not edit).
func (r *repoEditor) editFile(file string, change func(*yamldoc.Editor) error) bool {
	ed, err := yamldoc.NewEditor(file, r.read(file))
	if err != nil || change(ed) != nil {
		return false
	}
	out, err := ed.Apply()
	if err != nil {
		return false
	}
	r.write(file, out)
	return true
}

// stateChange runs an apply-flow change on a random promotion and writes
// it unchecked: an edit that breaks the repo is part of the property.
func (r *repoEditor) stateChange(change func(a *applyflow.Apply, p *promotions.Promotion, m *promotions.Model) error) bool {
	m := r.model()
	if m == nil || len(m.Promotions) == 0 {
		return false
	}
	p := m.Promotions[r.pick(m.PromotionIDs())]
	at := repogen.HotAt.Add(time.Duration(r.rng.IntN(72)) * time.Hour)
	if p.Window.Start != nil && at.Before(*p.Window.Start) {
		at = *p.Window.Start
	}
	var directory map[string]*promotions.Customer
	if m.HasDirectory {
		directory = m.Customers
	}
	a, err := applyflow.NewApply(p, r.read(p.File), directory, at)
	if err != nil || change(a, p, m) != nil || len(a.Refused()) > 0 || !a.Changed() {
		return false
	}
	out, _, err := a.Unchecked()
	if err != nil {
		return false
	}
	r.write(p.File, out)
	return true
}

func (r *repoEditor) grant() bool {
	return r.stateChange(func(a *applyflow.Apply, _ *promotions.Promotion, m *promotions.Model) error {
		ids := m.CustomerIDs()
		return a.Grant([]string{r.pick(ids), r.pick(ids)})
	})
}

func (r *repoEditor) revoke() bool {
	return r.stateChange(func(a *applyflow.Apply, p *promotions.Promotion, _ *promotions.Model) error {
		if len(p.Grants.Customers) == 0 {
			return fmt.Errorf("no entries")
		}
		return a.Revoke([]string{p.Grants.Customers[r.rng.IntN(len(p.Grants.Customers))].ID})
	})
}

func (r *repoEditor) renamePromotion() bool {
	return r.editFile(r.pick(r.files("promotions")), func(ed *yamldoc.Editor) error {
		return ed.Set(promotions.P("name"), fmt.Sprintf("Renamed %d", r.rng.IntN(1000)))
	})
}

func (r *repoEditor) promotionAllowance() bool {
	return r.editFile(r.pick(r.files("promotions")), func(ed *yamldoc.Editor) error {
		if !ed.Has(promotions.P("metered", "allowance")) {
			return fmt.Errorf("not metered")
		}
		return ed.Set(promotions.P("metered", "allowance"), int64(r.rng.IntN(100_000)))
	})
}

func (r *repoEditor) addPromotion() bool {
	m := r.model()
	if m == nil {
		return false
	}
	f := m.Features[r.pick(promotions.SortedKeys(m.Features))]
	r.n++
	p := promotions.Promotion{ID: fmt.Sprintf("prop-new-%d", r.n), Name: "New", Status: promotions.StatusActive,
		Feature: f.Key, FeatureType: f.Type}
	if f.Type == promotions.FeatureMetered {
		p.Metered = &promotions.Metered{Mode: promotions.ModeAdditive, Allowance: promotions.Allowance{Value: 10}, Reset: promotions.ResetMonthly}
	}
	src, err := yamldoc.RenderNewPromotion(p)
	require.NoError(r.t, err)
	r.write(applyflow.NewPromotionFile(p.ID), src)
	return true
}

func (r *repoEditor) deletePromotion() bool {
	r.remove(r.pick(r.files("promotions")))
	return true
}

func (r *repoEditor) movePromotion() bool {
	from := r.pick(r.files("promotions"))
	to := path.Join("promotions", fmt.Sprintf("moved%d", r.rng.IntN(3)), path.Base(from))
	if from == to {
		return false
	}
	src := r.read(from)
	r.remove(from)
	r.write(to, src)
	return true
}

// customerEdit edits a random customer of a random Customers file.
func (r *repoEditor) customerEdit(change func(ed *yamldoc.Editor, i int, m *promotions.Model) error) bool {
	m := r.model()
	if m == nil || len(m.Customers) == 0 {
		return false
	}
	c := m.Customers[r.pick(m.CustomerIDs())]
	return r.editFile(c.File, func(ed *yamldoc.Editor) error { return change(ed, c.Index, m) })
}

func (r *repoEditor) customerPlan() bool {
	return r.customerEdit(func(ed *yamldoc.Editor, i int, m *promotions.Model) error {
		return ed.Set(promotions.P("customers", i, "plan"), r.pick(promotions.SortedKeys(m.Plans)))
	})
}

func (r *repoEditor) addCustomer() bool {
	return r.customerEdit(func(ed *yamldoc.Editor, _ int, m *promotions.Model) error {
		r.n++
		return ed.Append(promotions.P("customers"), []yamldoc.Field{
			{Key: "id", Value: fmt.Sprintf("cus_prop%d", r.n)}, {Key: "name", Value: "Prop"},
			{Key: "plan", Value: r.pick(promotions.SortedKeys(m.Plans))},
		})
	})
}

// removeCustomer deletes, as text (the editor removes mapping keys, not
// list items), a customer that no grant names: removing one that a grant
// names only breaks the repo.
func (r *repoEditor) removeCustomer() bool {
	m := r.model()
	if m == nil {
		return false
	}
	named := map[string]bool{}
	for _, p := range m.Promotions {
		for _, g := range p.Grants.Customers {
			named[g.ID] = true
		}
	}
	var free []string
	for _, id := range m.CustomerIDs() {
		if !named[id] {
			free = append(free, id)
		}
	}
	if len(free) == 0 {
		return false
	}
	c := m.Customers[r.pick(free)]
	lines := strings.SplitAfter(string(r.read(c.File)), "\n")
	start := slices.Index(lines, "  - id: "+c.ID+"\n")
	if start < 0 {
		return false
	}
	end := start + 1
	for end < len(lines) && strings.HasPrefix(lines[end], "    ") {
		end++
	}
	r.write(c.File, []byte(strings.Join(slices.Delete(lines, start, end), "")))
	return true
}

func (r *repoEditor) planAllowance() bool {
	return r.editFile(r.pick(r.files("plans")), func(ed *yamldoc.Editor) error {
		for i := 0; ed.Has(promotions.P("entitlements", i)); i++ {
			if ed.Has(promotions.P("entitlements", i, "allowance")) && r.rng.IntN(2) == 0 {
				return ed.Set(promotions.P("entitlements", i, "allowance"), int64(r.rng.IntN(50_000)))
			}
		}
		return fmt.Errorf("no metered entitlement chosen")
	})
}

func (r *repoEditor) eligibility() bool {
	m := r.model()
	if m == nil {
		return false
	}
	plan := r.pick(promotions.SortedKeys(m.Plans))
	return r.editFile(r.pick(r.files("promotions")), func(ed *yamldoc.Editor) error {
		return ed.Set(promotions.P("eligibility", "plans"), []string{plan})
	})
}

func (r *repoEditor) flipFeatureType() bool {
	return r.editFile(r.pick(r.files("features")), func(ed *yamldoc.Editor) error {
		return ed.Set(promotions.P("type"), []string{"boolean", "metered"}[r.rng.IntN(2)])
	})
}
