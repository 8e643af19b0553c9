package history_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/history"
)

// TestMentionIndexGivesTheSameAnswers walks each customer's history with
// the mention index (cold, then filled by the walks before) and without
// it: the commits and changes are the same.
func TestMentionIndexGivesTheSameAnswers(t *testing.T) {
	s, _ := buildHistory(t)
	customers := []string{"cus_1", "cus_2", "cus_10", "cus_51", "cus_99"}
	for _, c := range customers {
		t.Run(c, func(t *testing.T) {
			restore := history.WithoutMentionIndex()
			want, _, err := history.Walk(s.dir, history.Query{Customer: c})
			restore()
			require.NoError(t, err)
			for _, pass := range []string{"first walk", "repeat walk"} {
				got, _, err := history.Walk(s.dir, history.Query{Customer: c})
				require.NoError(t, err)
				assert.Equal(t, want, got, pass)
			}
		})
	}
}

// TestAChangedFileIsNotServedFromTheIndex: after cus_1's walk has indexed
// a file, a commit that grants cus_2 in it makes a new version, which is
// indexed on its own and shows the grant.
func TestAChangedFileIsNotServedFromTheIndex(t *testing.T) {
	s := newScript(t)
	s.write("promotions/trial.yaml", promo("Trial", "  customers:\n    - id: cus_1\n      state: granted\n      granted_at: 2026-03-02T00:00:00Z\n"))
	s.commit("Ada", "Grant cus_1")
	for _, c := range []string{"cus_1", "cus_2"} {
		_, _, err := history.Walk(s.dir, history.Query{Customer: c})
		require.NoError(t, err)
	}
	s.write("promotions/trial.yaml", promo("Trial", "  customers:\n    - id: cus_1\n      state: granted\n      granted_at: 2026-03-02T00:00:00Z\n    - id: cus_2\n      state: granted\n      granted_at: 2026-03-03T00:00:00Z\n"))
	grant := s.commit("Grace", "Grant cus_2")
	got, _, err := history.Walk(s.dir, history.Query{Customer: "cus_2"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, grant, got[0].Hash)
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_2", Change: history.Granted}}, got[0].Changes)
}

// TestWarmIndexesEveryChangedVersion: Warm indexes the file versions the
// history changed, so a customer walk after it reads the same answers.
func TestWarmIndexesEveryChangedVersion(t *testing.T) {
	s := newScript(t)
	for i := range 3 {
		s.write(fmt.Sprintf("promotions/p%d.yaml", i), promo("Trial", fmt.Sprintf("  customers:\n    - id: warm_%d\n      state: granted\n      granted_at: 2026-03-02T00:00:00Z\n", i)))
		s.commit("Ada", "Grant")
	}
	before := history.MentionIndexLen()
	require.NoError(t, history.Warm(context.Background(), s.dir, ""))
	assert.Equal(t, before+3, history.MentionIndexLen(), "one entry per new file version")
	got, _, err := history.Walk(s.dir, history.Query{Customer: "warm_1"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "warm_1", Change: history.Granted}}, got[0].Changes)
}
