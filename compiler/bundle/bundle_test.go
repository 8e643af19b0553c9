package bundle_test

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/promotions"
)

const acme = "../../examples/acme"

func loadModel(t testing.TB, dir string) *promotions.Model {
	t.Helper()
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Diagnostics)
	return res.Model
}

func testHeader() bundle.Header {
	return bundle.Header{
		Promoctl: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", Commit: "0123456789abcdef0123456789abcdef01234567",
		ContentHash: "sha256:1ab26bcc0a80fa51", CommitTime: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC),
		BuildTime: time.Date(2026, 4, 1, 10, 5, 0, 0, time.UTC), SourceBytes: 12345,
	}
}

func newKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := bundle.GenerateKey()
	require.NoError(t, err)
	priv, err := bundle.ParsePrivateKey(privPEM)
	require.NoError(t, err)
	pub, err := bundle.ParsePublicKey(pubPEM)
	require.NoError(t, err)
	return priv, pub
}

func TestRoundTripKeepsTheUsagePolicy(t *testing.T) {
	m := loadModel(t, acme)
	m.Features["api_calls"].Usage = &promotions.FeatureUsage{Overage: promotions.OverageSoft, OnStoreFailure: promotions.StoreFailureDeny}
	m.Features["seats"].Usage = &promotions.FeatureUsage{OnStoreFailure: promotions.StoreFailureDeny}
	data, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	b, err := bundle.Decode(data, bundle.Options{})
	require.NoError(t, err)
	assert.Equal(t, m.Features, b.Model.Features)
}

func TestRoundTripKeepsBillingAnchors(t *testing.T) {
	m := loadModel(t, acme)
	anchor := time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC)
	m.Customers["cus_001"].BillingAnchor = &anchor
	data, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	b, err := bundle.Decode(data, bundle.Options{})
	require.NoError(t, err)
	require.NotNil(t, b.Model.Customers["cus_001"].BillingAnchor)
	assert.Equal(t, anchor, *b.Model.Customers["cus_001"].BillingAnchor)
	assert.Nil(t, b.Model.Customers["cus_002"].BillingAnchor)
	assert.Equal(t, m.Customers, b.Model.Customers)
}

func TestRoundTripKeepsTheModel(t *testing.T) {
	m := loadModel(t, acme)
	data, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	b, err := bundle.Decode(data, bundle.Options{})
	require.NoError(t, err)
	assert.Equal(t, m, b.Model)
	want := testHeader()
	want.FormatVersion = bundle.FormatVersion
	want.Counts.Features, want.Counts.Plans, want.Counts.Customers, want.Counts.Promotions, want.Counts.Grants = 6, 3, 26, 9, 23
	assert.Equal(t, want, b.Header)
	assert.Empty(t, b.SignedBy)
	assert.False(t, b.Verified)
}

func TestEncodingIsDeterministic(t *testing.T) {
	first, err := bundle.Encode(loadModel(t, acme), testHeader(), nil)
	require.NoError(t, err)
	second, err := bundle.Encode(loadModel(t, acme), testHeader(), nil)
	require.NoError(t, err)
	assert.Equal(t, first, second, "two loads of one repo give the same bytes")
	b, err := bundle.Decode(first, bundle.Options{})
	require.NoError(t, err)
	again, err := bundle.Encode(b.Model, b.Header, nil)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a decoded bundle encodes to the same bytes")
}

// TestEveryModelFieldIsEncoded fails when the model gains a field the
// format does not carry: add it to the encoder and decoder (and bump
// FormatVersion), then here.
func TestEveryModelFieldIsEncoded(t *testing.T) {
	encoded := map[string][]string{
		"Model":           {"Customers", "Features", "HasDirectory", "Plans", "Promotions"},
		"Feature":         {"File", "Key", "Name", "Type", "Unit", "Usage"},
		"Plan":            {"Entitlements", "File", "Key", "Name"},
		"PlanEntitlement": {"Allowance", "Feature", "Reset"},
		"Customer":        {"Attributes", "BillingAnchor", "Email", "File", "ID", "Index", "Name", "Plan"},
		"Promotion": {"DeactivatedAt", "Description", "Duration", "Eligibility", "Feature", "FeatureType", "File", "Grants",
			"ID", "IsApplied", "Metered", "Name", "Status", "Window"},
		"FeatureUsage":  {"OnStoreFailure", "Overage"},
		"Window":        {"End", "Start"},
		"Duration":      {"Unit", "Value"},
		"Metered":       {"Allowance", "Mode", "Reset"},
		"Allowance":     {"Unlimited", "Value"},
		"Eligibility":   {"Attributes", "Plans"},
		"Grants":        {"All", "Customers"},
		"AllGrant":      {"GrantedAt", "Previous", "RevokedAt"},
		"CustomerGrant": {"GrantedAt", "ID", "Previous", "RevokedAt", "State"},
		"Period":        {"GrantedAt", "RevokedAt"},
	}
	for _, v := range []any{promotions.Model{}, promotions.Feature{}, promotions.FeatureUsage{}, promotions.Plan{}, promotions.PlanEntitlement{}, promotions.Customer{},
		promotions.Promotion{}, promotions.Window{}, promotions.Duration{}, promotions.Metered{}, promotions.Allowance{},
		promotions.Eligibility{}, promotions.Grants{}, promotions.AllGrant{}, promotions.CustomerGrant{}, promotions.Period{}} {
		typ := reflect.TypeOf(v)
		var fields []string
		for i := range typ.NumField() {
			fields = append(fields, typ.Field(i).Name)
		}
		sort.Strings(fields)
		assert.Equal(t, encoded[typ.Name()], fields, "fields of promotions.%s", typ.Name())
	}
}

func TestSignedBundle(t *testing.T) {
	priv, pub := newKey(t)
	data, err := bundle.Encode(loadModel(t, acme), testHeader(), priv)
	require.NoError(t, err)

	b, err := bundle.Decode(data, bundle.Options{Key: pub})
	require.NoError(t, err)
	assert.Equal(t, bundle.KeyID(pub), b.SignedBy)
	assert.True(t, b.Verified)

	b, err = bundle.Decode(data, bundle.Options{})
	require.NoError(t, err, "a signed bundle reads without a key")
	assert.Equal(t, bundle.KeyID(pub), b.SignedBy)
	assert.False(t, b.Verified)
}

func TestSigningKeepsContentBytes(t *testing.T) {
	priv, _ := newKey(t)
	m := loadModel(t, acme)
	unsigned, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	signed, err := bundle.Encode(m, testHeader(), priv)
	require.NoError(t, err)
	assert.Equal(t, unsigned, signed[:len(unsigned)], "the signature is appended after the hash")
}

// TestRefusals corrupts a good bundle in every way a reader must notice.
func TestRefusals(t *testing.T) {
	priv, pub := newKey(t)
	_, otherPub := newKey(t)
	m := loadModel(t, acme)
	unsigned, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	signed, err := bundle.Encode(m, testHeader(), priv)
	require.NoError(t, err)
	clone := func(b []byte) []byte { return append([]byte(nil), b...) }

	tests := []struct {
		name    string
		data    []byte
		opts    bundle.Options
		problem bundle.Problem
		message string
	}{
		{"empty file", nil, bundle.Options{}, bundle.Truncated, "shorter than the magic number"},
		{"YAML instead", []byte("kind: Feature\nkey: x\n"), bundle.Options{}, bundle.NotABundle, "magic number"},
		{"truncated in the header", unsigned[:20], bundle.Options{}, bundle.Truncated, "the header alone needs"},
		{"truncated in the content", unsigned[:len(unsigned)/2], bundle.Options{}, bundle.Truncated, "header and content declare"},
		{"hash cut off", unsigned[:len(unsigned)-1], bundle.Options{}, bundle.Truncated, "header and content declare"},
		{"signature cut off", signed[:len(signed)-10], bundle.Options{}, bundle.Truncated, "signature block"},
		{"altered content", func() []byte { b := clone(unsigned); b[len(b)-100] ^= 1; return b }(), bundle.Options{}, bundle.Altered, "SHA-256 does not match"},
		{"altered header", func() []byte { b := clone(unsigned); b[20] ^= 1; return b }(), bundle.Options{}, bundle.Altered, "SHA-256 does not match"},
		{"bytes appended", append(clone(unsigned), "junk"...), bundle.Options{}, bundle.Altered, "unexpected bytes after the hash"},
		{"over the size limit", unsigned, bundle.Options{MaxSize: int64(len(unsigned) - 1)}, bundle.Oversized, "more than the limit"},
		{"other format version", func() []byte {
			b := clone(unsigned)
			binary.LittleEndian.PutUint16(b[8:], bundle.FormatVersion+1)
			return b
		}(), bundle.Options{}, bundle.OtherFormat, fmt.Sprintf("format version %d; this promoctl reads version %d (a newer promoctl built it", bundle.FormatVersion+1, bundle.FormatVersion)},
		{"older format version", func() []byte {
			b := clone(unsigned)
			binary.LittleEndian.PutUint16(b[8:], bundle.FormatVersion-1)
			return b
		}(), bundle.Options{}, bundle.OtherFormat, fmt.Sprintf("format version %d; this promoctl reads version %d: rebuild the bundle", bundle.FormatVersion-1, bundle.FormatVersion)},
		{"unsigned when a key is required", unsigned, bundle.Options{Key: pub}, bundle.Unsigned, "requires a signature"},
		{"signed by another key", signed, bundle.Options{Key: otherPub}, bundle.WrongKey, "not by the verify key " + bundle.KeyID(otherPub)},
		{"signature altered", func() []byte { b := clone(signed); b[len(b)-1] ^= 1; return b }(), bundle.Options{Key: pub}, bundle.BadSignature, "does not verify"},
		{"signature over other content", func() []byte {
			other := clone(signed)
			h := testHeader()
			h.Promoctl = "v9"
			o, err := bundle.Encode(m, h, nil)
			require.NoError(t, err)
			return append(o, other[len(unsigned):]...)
		}(), bundle.Options{Key: pub}, bundle.BadSignature, "does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bundle.Decode(tt.data, tt.opts)
			require.Error(t, err)
			assert.Equal(t, tt.problem, bundle.ProblemOf(err), "%v", err)
			assert.ErrorContains(t, err, tt.message)
			assert.ErrorContains(t, err, "bundle refused ("+string(tt.problem)+")")
		})
	}
}

// TestMalformedContentIsRefused writes bundles whose hash is right but
// whose content is not what a validated repo gives.
func TestMalformedContentIsRefused(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(m *promotions.Model)
		message string
	}{
		{"promotion of an unknown feature", func(m *promotions.Model) { m.Promotions["spring-api-boost"].Feature = "nope" }, `feature "nope" is unknown`},
		{"metered promotion without metered settings", func(m *promotions.Model) { m.Promotions["spring-api-boost"].Metered = nil }, "metered settings do not fit"},
		{"unknown grant state", func(m *promotions.Model) { m.Promotions["spring-api-boost"].Grants.Customers[0].State = "maybe" }, `unknown grant state "maybe"`},
		{"plan lists an unknown feature", func(m *promotions.Model) { m.Plans["starter"].Entitlements[0].Feature = "nope" }, `unknown feature "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadModel(t, acme)
			tt.edit(m)
			data, err := bundle.Encode(m, testHeader(), nil)
			require.NoError(t, err)
			_, err = bundle.Decode(data, bundle.Options{})
			assert.Equal(t, bundle.Malformed, bundle.ProblemOf(err), "%v", err)
			assert.ErrorContains(t, err, tt.message)
		})
	}
}

func TestVerifyReadsOnlyTheHeader(t *testing.T) {
	data, err := bundle.Encode(loadModel(t, acme), testHeader(), nil)
	require.NoError(t, err)
	b, err := bundle.Verify(data, bundle.Options{})
	require.NoError(t, err)
	assert.Nil(t, b.Model)
	assert.Equal(t, 26, b.Header.Counts.Customers)
}

func TestKeysRefuseOtherPEM(t *testing.T) {
	privPEM, pubPEM, err := bundle.GenerateKey()
	require.NoError(t, err)
	_, err = bundle.ParsePublicKey(privPEM)
	assert.ErrorContains(t, err, `not a PEM "PUBLIC KEY" block`)
	_, err = bundle.ParsePrivateKey(pubPEM)
	assert.ErrorContains(t, err, `not a PEM "PRIVATE KEY" block`)
	_, err = bundle.ParsePublicKey([]byte("garbage"))
	assert.Error(t, err)
}

// Times keep their UTC offset: month arithmetic and the JSON answers
// depend on it.
func TestTimesKeepTheirOffset(t *testing.T) {
	m := loadModel(t, acme)
	p := m.Promotions["spring-api-boost"]
	granted := p.Grants.Customers[0].GrantedAt.In(time.FixedZone("", 2*60*60))
	p.Grants.Customers[0].GrantedAt = granted
	data, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	b, err := bundle.Decode(data, bundle.Options{})
	require.NoError(t, err)
	got := b.Model.Promotions["spring-api-boost"].Grants.Customers[0].GrantedAt
	assert.True(t, got.Equal(granted))
	_, offset := got.Zone()
	assert.Equal(t, 2*60*60, offset)
	assert.Equal(t, granted.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
	again, err := bundle.Encode(b.Model, b.Header, nil)
	require.NoError(t, err)
	assert.Equal(t, data, again)
}

// A bundle is at most half the size of the YAML it was built from.
func TestBundleIsAtMostHalfTheYAML(t *testing.T) {
	res, err := compiler.Load(os.DirFS(acme), compiler.Options{})
	require.NoError(t, err)
	data, err := bundle.Encode(res.Model, testHeader(), nil)
	require.NoError(t, err)
	assert.LessOrEqual(t, int64(len(data))*2, res.Bytes, "%d bytes of bundle for %d of YAML", len(data), res.Bytes)
}
