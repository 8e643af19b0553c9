package compiler_test

import (
	"testing"
	"testing/fstest"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

// FuzzLoadPromotion lays an arbitrary promotion file over the base repo and
// runs the whole load: parse, CUE schema, cross-file rules. It must never
// panic, every error must carry a position, and a repo reported valid must
// build into a snapshot.
func FuzzLoadPromotion(f *testing.F) {
	base := baseRepo(f)
	f.Add(base["promotions/boost.yaml"].Data)
	for _, s := range []string{
		"kind: PromotionalEntitlement\nid: x\n",
		"kind: PromotionalEntitlement\nid: x\nname: X\nfeature: sso\nfeature_type: boolean\nis_applied: true\ngrants:\n  all:\n    granted_at: 2026-01-01T00:00:00Z\n",
		"kind: PromotionalEntitlement\nid: x\nname: X\nfeature: api_calls\nfeature_type: metered\nmetered: {mode: override, allowance: unlimited, reset: daily}\n",
		"kind: PromotionalEntitlement\nstatus: deactivated\ngrants: {customers: [{id: cus_1, state: revoked}]}\n",
		"kind: Plan\nkey: p\nname: P\nentitlements: [{feature: sso, allowance: -1}]\n",
		"kind: Customers\ncustomers: [{id: cus_1, plan: starter}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		repo := fstest.MapFS{}
		for k, v := range base {
			repo[k] = v
		}
		repo["promotions/fuzz.yaml"] = &fstest.MapFile{Data: src}
		lim := promotions.DefaultLimits
		lim.MaxAliasNodes = 1000
		res, err := compiler.Load(repo, compiler.Options{Limits: lim, Workers: 1})
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		for _, d := range res.Diagnostics {
			if d.Line < 1 || d.Column < 1 || d.Code == "" {
				t.Fatalf("diagnostic without position or code: %v", d)
			}
		}
		if res.OK() {
			if _, err := snapshot.Build(res.Model, res.ContentHash); err != nil {
				t.Fatalf("valid repo does not build: %v", err)
			}
		}
	})
}
