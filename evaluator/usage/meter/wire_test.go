package meter

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainAnswer has Answer's fields and tags without its methods: what
// encoding/json writes from the tags alone.
type plainAnswer Answer

// AppendJSON writes what encoding/json writes from the field tags, for
// every field set or left empty.
func TestAnswerJSONIsWhatTheTagsSay(t *testing.T) {
	reset := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	strs := []string{"", "consumed", "plan:monthly", "promotion:spring-boost", `odd "id" \ with <html> & tab` + "\t", "bad \xff"}
	r := rand.New(rand.NewPCG(5, 6))
	pick := func() string { return strs[r.IntN(len(strs))] }
	for i := range 3000 {
		a := Answer{Outcome: pick(), Allowed: r.IntN(2) == 0, Reason: pick(), Amount: r.Int64N(1 << 53),
			Remaining: r.Int64N(1<<53) - 1<<52, Unlimited: r.IntN(2) == 0, Overage: r.Int64N(3) * r.Int64N(1000),
			Store: pick(), Degraded: r.IntN(2) == 0, Revision: pick()}
		switch i % 3 {
		case 1:
			a.From = []Part{}
		case 2:
			for range 1 + r.IntN(3) {
				a.From = append(a.From, Part{Bucket: pick(), Amount: r.Int64N(1e6)})
			}
		}
		if r.IntN(2) == 0 {
			next := reset.Add(time.Duration(r.Int64N(1e15)))
			a.NextReset = &next
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false) // as the sidecar writes its answers
		require.NoError(t, enc.Encode(plainAnswer(a)))
		assert.Equal(t, strings.TrimSuffix(want.String(), "\n"), string(a.AppendJSON(nil)), "%+v", a)
		got, err := json.Marshal(a)
		require.NoError(t, err)
		assert.JSONEq(t, want.String(), string(got), "encoding/json goes through MarshalJSON")
	}
}
