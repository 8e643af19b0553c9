package evaluator

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hand-written time writer must print exactly what time.RFC3339Nano
// prints, for whole seconds and fractions, in any zone.
func TestAppendTimeMatchesRFC3339Nano(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -7*3600)}
	for i := 0; i < 5000; i++ {
		tm := time.Unix(r.Int64N(1<<34)-(1<<33), 0).In(zones[i%len(zones)])
		if i%3 == 0 {
			tm = tm.Add(time.Duration(r.Int64N(1e9)))
		}
		want := `"` + tm.UTC().Format(time.RFC3339Nano) + `"`
		assert.Equal(t, want, string(appendTime(nil, tm)), tm.String())
	}
}

// appendString must produce valid JSON that decodes to the same string
// (invalid UTF-8 becomes U+FFFD, as encoding/json does).
func TestAppendStringRoundTrips(t *testing.T) {
	for _, s := range []string{"", "cus_001", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x01\x1f", "héllo ✓", "\u2028\u2029", "bad \xff utf8"} {
		var got string
		require.NoError(t, json.Unmarshal(appendString(nil, s), &got), s)
		want, _ := json.Marshal(s)
		var wantDecoded string
		require.NoError(t, json.Unmarshal(want, &wantDecoded))
		assert.Equal(t, wantDecoded, got)
	}
}
