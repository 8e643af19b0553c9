package jsonw_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/jsonw"
)

// encode is what encoding/json writes for v with HTML escaping off.
func encode(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestStringIsWhatEncodingJSONWrites(t *testing.T) {
	cases := []string{"", "cus_001", `quote " and \ backslash`, "tab\tnew\nline\r", "\b\f", "\x00\x01\x1f\x7f",
		"héllo ✓", "\u2028\u2029", "bad \xff utf8", "cut \xe2\x82", "<Lindqvist & Daughters>"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		assert.Equal(t, encode(t, s), string(jsonw.String(nil, s)), "%q", s)
	}
}

func TestTimeIsWhatEncodingJSONWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -7*3600)}
	for i := range 5000 {
		tm := time.Unix(r.Int64N(1<<34)-(1<<33), 0).In(zones[i%len(zones)])
		if i%3 == 0 {
			tm = tm.Add(time.Duration(r.Int64N(1e9)))
		}
		assert.Equal(t, encode(t, tm), string(jsonw.Time(nil, tm)), tm.String())
	}
	assert.Equal(t, "null", string(jsonw.TimeOrNull(nil, time.Time{})))
}
