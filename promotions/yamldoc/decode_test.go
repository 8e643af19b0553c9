package yamldoc_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

func decodeCustomers(t *testing.T, src string) []promotions.Customer {
	t.Helper()
	doc, diags := yamldoc.ParseDocument("customers.yaml", []byte(src), promotions.DefaultLimits)
	require.NotNil(t, doc, "%v", diags)
	return yamldoc.DecodeCustomers(doc).Customers
}

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestDecodeCustomersSharesEqualAttributeSets(t *testing.T) {
	got := decodeCustomers(t, `kind: Customers
customers:
  - {id: c1, name: One, email: one@example.com, plan: starter, attributes: {region: eu, segment: smb}}
  - {id: c2, name: Two, email: two@example.com, plan: starter, attributes: {segment: smb, region: eu}}
  - {id: c3, plan: growth, attributes: {region: us, segment: smb}}
  - {id: c4, plan: growth, attributes: {region: eu}}
  - {id: c5, plan: growth}
`)
	require.Len(t, got, 5)
	assert.Equal(t, map[string]string{"region": "eu", "segment": "smb"}, got[0].Attributes)
	assert.True(t, sameMap(got[0].Attributes, got[1].Attributes), "same set in another key order shares the map")
	assert.Equal(t, map[string]string{"region": "us", "segment": "smb"}, got[2].Attributes)
	assert.False(t, sameMap(got[0].Attributes, got[2].Attributes))
	assert.Equal(t, map[string]string{"region": "eu"}, got[3].Attributes)
	assert.False(t, sameMap(got[0].Attributes, got[3].Attributes), "a subset is another set")
	assert.Nil(t, got[4].Attributes)
}

// Keys and values that run together must not make two sets one.
func TestDecodeCustomersAttributeSetKeysAreUnambiguous(t *testing.T) {
	got := decodeCustomers(t, `kind: Customers
customers:
  - {id: c1, plan: p, attributes: {ab: c}}
  - {id: c2, plan: p, attributes: {a: bc}}
  - {id: c3, plan: p, attributes: {a: b, c: d}}
  - {id: c4, plan: p, attributes: {a: "b1:c", c: d}}
`)
	assert.Equal(t, map[string]string{"ab": "c"}, got[0].Attributes)
	assert.Equal(t, map[string]string{"a": "bc"}, got[1].Attributes)
	assert.Equal(t, map[string]string{"a": "b", "c": "d"}, got[2].Attributes)
	assert.Equal(t, map[string]string{"a": "b1:c", "c": "d"}, got[3].Attributes)
}

func TestDecodeKeepsEveryString(t *testing.T) {
	got := decodeCustomers(t, `kind: Customers
customers:
  - {id: cus_1, name: Zoë Café, email: z@example.com, plan: starter}
  - {id: cus_22, name: "", plan: starter}
  - {id: cus_333, email: x@example.com, plan: starter}
`)
	want := [][3]string{{"cus_1", "Zoë Café", "z@example.com"}, {"cus_22", "", ""}, {"cus_333", "", "x@example.com"}}
	for i, c := range got {
		assert.Equal(t, want[i], [3]string{c.ID, c.Name, c.Email})
	}

	doc, diags := yamldoc.ParseDocument("p.yaml", []byte(`kind: PromotionalEntitlement
id: p
name: P
feature: sso
feature_type: boolean
grants:
  customers:
    - {id: cus_1, state: granted, granted_at: 2026-01-01T00:00:00Z}
    - {id: cus_22, state: revoked, granted_at: 2026-01-01T00:00:00Z, revoked_at: 2026-02-01T00:00:00Z}
`), promotions.DefaultLimits)
	require.NotNil(t, doc, "%v", diags)
	p := yamldoc.DecodePromotion(doc)
	require.Len(t, p.Grants.Customers, 2)
	assert.Equal(t, "cus_1", p.Grants.Customers[0].ID)
	assert.Equal(t, promotions.StateGranted, p.Grants.Customers[0].State)
	assert.Equal(t, "cus_22", p.Grants.Customers[1].ID)
	assert.Equal(t, promotions.StateRevoked, p.Grants.Customers[1].State)
}

func TestDecodeFeatureUsage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   string
		usage *promotions.FeatureUsage
		want  promotions.FeatureUsage
	}{
		{"no usage block: the defaults", "", nil,
			promotions.FeatureUsage{Overage: promotions.OverageBlock, OnStoreFailure: promotions.StoreFailureAllow}},
		{"both set", "usage:\n  overage: soft\n  on_store_failure: deny\n",
			&promotions.FeatureUsage{Overage: promotions.OverageSoft, OnStoreFailure: promotions.StoreFailureDeny},
			promotions.FeatureUsage{Overage: promotions.OverageSoft, OnStoreFailure: promotions.StoreFailureDeny}},
		{"one set, flow style", "usage: {on_store_failure: deny}\n",
			&promotions.FeatureUsage{OnStoreFailure: promotions.StoreFailureDeny},
			promotions.FeatureUsage{Overage: promotions.OverageBlock, OnStoreFailure: promotions.StoreFailureDeny}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "kind: Feature\nkey: api_calls\nname: API calls\ntype: metered\n" + tc.src
			doc, diags := yamldoc.ParseDocument("api_calls.yaml", []byte(src), promotions.DefaultLimits)
			require.NotNil(t, doc, "%v", diags)
			f := yamldoc.DecodeFeature(doc)
			assert.Equal(t, tc.usage, f.Usage)
			assert.Equal(t, tc.want, f.UsagePolicy())
		})
	}
}
