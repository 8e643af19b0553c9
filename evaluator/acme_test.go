package evaluator_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
)

// acmeCase is one hand-checked decision of examples/acme/expected_decisions.json.
type acmeCase struct {
	Name                   string     `json:"name"`
	Customer               string     `json:"customer"`
	Feature                string     `json:"feature"`
	At                     time.Time  `json:"at"`
	HasAccess              bool       `json:"has_access"`
	Allowance              *int64     `json:"allowance"`
	Unlimited              *bool      `json:"unlimited"`
	Reset                  *string    `json:"reset"`
	NextReset              *time.Time `json:"next_reset"` // checked when the case gives it
	ValidUntil             *time.Time `json:"valid_until"`
	ContributingPromotions []string   `json:"contributing_promotions"`
}

// TestAcmeDecisions checks the decision function against the example
// repo's hand-checked cases, through the JSON the API and explain print.
func TestAcmeDecisions(t *testing.T) {
	acme := filepath.Join("..", "examples", "acme")
	raw, err := os.ReadFile(filepath.Join(acme, "expected_decisions.json"))
	require.NoError(t, err)
	var cases []acmeCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.GreaterOrEqual(t, len(cases), 10)

	res, err := compiler.Load(os.DirFS(acme), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "examples/acme is invalid: %v", res.Diagnostics)
	snap, err := snapshot.Build(res.Model, res.ContentHash)
	require.NoError(t, err)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			d, err := evaluator.Decide(snap, evaluator.Query{Customer: c.Customer, Feature: c.Feature, At: c.At})
			require.NoError(t, err)
			body, err := json.Marshal(d)
			require.NoError(t, err)
			var got struct {
				HasAccess  bool       `json:"has_access"`
				Allowance  *int64     `json:"allowance"`
				Unlimited  *bool      `json:"unlimited"`
				Reset      *string    `json:"reset"`
				NextReset  *time.Time `json:"next_reset"`
				ValidUntil *time.Time `json:"valid_until"`
				Sources    []struct {
					Kind string `json:"kind"`
					ID   string `json:"id"`
				} `json:"sources"`
			}
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, c.HasAccess, got.HasAccess, "has_access")
			assert.Equal(t, c.Allowance, got.Allowance, "allowance")
			assert.Equal(t, c.Unlimited, got.Unlimited, "unlimited")
			assert.Equal(t, c.Reset, got.Reset, "reset")
			assert.Equal(t, c.ValidUntil, got.ValidUntil, "valid_until")
			if c.NextReset != nil {
				assert.Equal(t, c.NextReset, got.NextReset, "next_reset")
			}
			promos := []string{}
			for _, s := range got.Sources {
				if s.Kind == "promotion" {
					promos = append(promos, s.ID)
				}
			}
			sort.Strings(promos)
			want := append([]string{}, c.ContributingPromotions...)
			sort.Strings(want)
			assert.Equal(t, want, promos, "contributing promotions")
		})
	}
}
