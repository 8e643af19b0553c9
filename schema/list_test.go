package schema

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// The skeleton validation of large lists must report exactly what
// validating every element on its own reports.
func TestValidateListMatchesPlainValidation(t *testing.T) {
	tests := []struct {
		name string
		head string
		item func(i int) string
		bad  map[int]string // element index → replacement item
	}{
		{
			name: "customers",
			head: "kind: Customers\ncustomers:\n",
			item: func(i int) string {
				return fmt.Sprintf("  - {id: cus_%05d, name: Customer %d, email: c%d@example.com, plan: %s, attributes: {region: %s}}\n",
					i, i, i, []string{"starter", "growth"}[i%2], []string{"eu", "us", "apac"}[i%3])
			},
			bad: map[int]string{
				3:   "  - {id: 'bad id', name: X, plan: starter}\n",
				50:  "  - {id: cus_x50, name: X, plan: Starter}\n",
				77:  "  - {id: cus_x77, name: [x], plan: starter}\n",
				100: "  - {id: cus_x100, plan: starter, colour: red}\n",
				101: "  - {id: cus_x101, name: X}\n",
				200: "  - {id: cus_x200, name: X, plan: starter, attributes: {region: 5}}\n",
				299: "  - 42\n",
			},
		},
		{
			name: "grants",
			head: "kind: PromotionalEntitlement\nid: p\nname: P\nfeature: sso\nfeature_type: boolean\nis_applied: true\ngrants:\n  customers:\n",
			item: func(i int) string {
				if i%10 == 0 {
					return fmt.Sprintf("    - {id: cus_%05d, state: revoked, granted_at: 2026-03-%02dT10:%02d:00Z, revoked_at: 2026-04-01T00:00:00Z}\n", i, 1+i%28, i%60)
				}
				return fmt.Sprintf("    - {id: cus_%05d, state: granted, granted_at: 2026-03-%02dT10:%02d:00Z}\n", i, 1+i%28, i%60)
			},
			bad: map[int]string{
				5:   "    - {id: cus_b5, state: revoked, granted_at: 2026-03-01T00:00:00Z}\n",
				6:   "    - {id: cus_b6, state: granted, granted_at: 2026-03-01T00:00:00Z, revoked_at: 2026-03-02T00:00:00Z}\n",
				7:   "    - {id: cus_b7, state: paused, granted_at: 2026-03-01T00:00:00Z}\n",
				8:   "    - {id: cus_b8, state: granted, granted_at: 2026-02-30T00:00:00Z}\n",
				9:   "    - {id: cus_b9, state: granted, granted_at: yesterday}\n",
				250: "    - {id: '', state: granted, granted_at: 2026-03-01T00:00:00Z}\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString(tt.head)
			for i := 0; i < 300; i++ {
				if bad, ok := tt.bad[i]; ok {
					b.WriteString(bad)
				} else {
					b.WriteString(tt.item(i))
				}
			}
			doc, diags := yamldoc.ParseDocument("f.yaml", []byte(b.String()), promotions.DefaultLimits)
			require.Empty(t, diags)
			s := MustCompile()
			got := s.Validate(doc)

			spec := s.lists[doc.Kind]
			outer, list := detachList(doc.Value, spec.path)
			require.Len(t, list, 300)
			want := s.validateValue(doc, s.defs[doc.Kind], outer, nil)
			want = append(want, s.validateEach(doc, spec.elem, list, spec.path, nil)...)

			require.NotEmpty(t, want)
			assert.ElementsMatch(t, renderAll(want), renderAll(got))
			for i := range tt.bad {
				assert.True(t, hasIndex(got, spec.path.Index(i)), "no diagnostic for element %d", i)
			}
		})
	}
}

func renderAll(ds promotions.Diagnostics) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String() + " @" + d.Path.String()
	}
	return out
}

func hasIndex(ds promotions.Diagnostics, prefix promotions.Path) bool {
	for _, d := range ds {
		if strings.HasPrefix(d.Path.String(), prefix.String()) {
			return true
		}
	}
	return false
}
