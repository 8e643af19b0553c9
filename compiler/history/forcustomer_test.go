package history

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestForCustomerKeepsOnlyWhatConcernsTheCustomer(t *testing.T) {
	const promotion = `kind: PromotionalEntitlement
id: boost
eligibility:
  plans:
    - starter
    - growth
grants:
  all:
    granted_at: 2026-03-01T00:00:00Z
  customers:
    - id: cus_1
      state: granted
      granted_at: 2026-03-02T09:00:00Z
    - id: cus_10
      state: revoked
      granted_at: 2026-03-02T09:00:00Z
      revoked_at: 2026-03-05T00:00:00Z
      previous:
        - {granted_at: 2026-03-01T00:00:00Z, revoked_at: 2026-03-01T12:00:00Z}
    - {id: cus_2, state: granted, granted_at: 2026-03-02T09:00:00Z}
`
	for name, tc := range map[string]struct {
		src, id string
		want    string
		ok      bool
	}{
		"other entries go, the rest stays": {promotion, "cus_10", `kind: PromotionalEntitlement
id: boost
eligibility:
  plans:
    - starter
    - growth
grants:
  all:
    granted_at: 2026-03-01T00:00:00Z
  customers:
    - id: cus_10
      state: revoked
      granted_at: 2026-03-02T09:00:00Z
      revoked_at: 2026-03-05T00:00:00Z
      previous:
        - {granted_at: 2026-03-01T00:00:00Z, revoked_at: 2026-03-01T12:00:00Z}
`, true},
		"a whole word, not a prefix": {promotion, "cus_1", `kind: PromotionalEntitlement
id: boost
eligibility:
  plans:
    - starter
    - growth
grants:
  all:
    granted_at: 2026-03-01T00:00:00Z
  customers:
    - id: cus_1
      state: granted
      granted_at: 2026-03-02T09:00:00Z
`, true},
		"a flow-style entry": {promotion, "cus_2", `kind: PromotionalEntitlement
id: boost
eligibility:
  plans:
    - starter
    - growth
grants:
  all:
    granted_at: 2026-03-01T00:00:00Z
  customers:
    - {id: cus_2, state: granted, granted_at: 2026-03-02T09:00:00Z}
`, true},
		"directory records": {"kind: Customers\ncustomers:\n  - id: cus_1\n    plan: starter\n  - id: cus_2\n    plan: growth\n    attributes: {region: eu}\n", "cus_2",
			"kind: Customers\ncustomers:\n  - id: cus_2\n    plan: growth\n    attributes: {region: eu}\n", true},
		"aliases: parsed whole": {"kind: Customers\ncustomers:\n  - id: cus_1\n    attributes: &a {region: eu}\n  - id: cus_2\n    attributes: *a\n", "cus_2", "", false},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := forCustomer([]byte(tc.src), tc.id)
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.want, string(got))
			}
		})
	}
}
