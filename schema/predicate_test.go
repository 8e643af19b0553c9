package schema

import (
	"testing"

	"cuelang.org/go/cue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every predicate must agree with CUE on every probe value: a predicate
// that accepted what CUE rejects would let an invalid repo through.
func TestPredicatesAgreeWithCUE(t *testing.T) {
	s := MustCompile()
	probes := []any{
		"", "a", "cus_001", "Cus:1@x", "-bad", "has space", "UPPER", "x.y-z_1", string(make([]byte, 200)),
		"2026-03-01T00:00:00Z", "2026-03-01T00:00:00.5+02:00", "2026-13-01T00:00:00Z", "2026-03-01", "2026-02-30T00:00:00Z",
		"granted", "revoked", "active", "unlimited", "monthly",
		int64(-1), int64(0), int64(5), uint64(1 << 40), true, false, nil, 1.5,
		map[string]any{}, []any{"a"},
	}
	compiled := 0
	for _, def := range []string{"#Customer", "#CustomerGrant", "#PlanEntitlement", "#Metered"} {
		fields := s.fieldConstraints(def, s.root.LookupPath(cue.ParsePath(def)))
		require.NotEmpty(t, fields, def)
		for name, c := range fields {
			p, ok := compilePredicate(c)
			if !ok {
				continue
			}
			compiled++
			for _, v := range probes {
				want := c.Unify(s.ctx.Encode(v)).Validate(cue.Concrete(true)) == nil
				assert.Equal(t, want, p(v), "%s.%s on %#v", def, name, v)
			}
		}
	}
	assert.GreaterOrEqual(t, compiled, 8, "too few fields got a predicate")
}

func TestIsEnum(t *testing.T) {
	s := MustCompile()
	grant := s.fieldConstraints("g", s.root.LookupPath(cue.ParsePath("#CustomerGrant")))
	customer := s.fieldConstraints("c", s.root.LookupPath(cue.ParsePath("#Customer")))
	assert.True(t, isEnum(grant["state"]))
	assert.False(t, isEnum(grant["id"]))
	assert.False(t, isEnum(grant["granted_at"]))
	assert.False(t, isEnum(customer["name"]))
	assert.False(t, isEnum(customer["plan"]))
}
