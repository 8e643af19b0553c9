package applyflow_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

func openAcme(t *testing.T, dir string) *applyflow.Session {
	t.Helper()
	s, err := applyflow.Open(os.DirFS(dir), applyflow.Options{Validator: compiler.NewValidator(promotions.Limits{})})
	require.NoError(t, err)
	return s
}

// Each verb is one call with typed options; its result carries the
// summary, the refusals and the checked change, and the lines the CLI and
// the console print or commit.
func TestVerbs(t *testing.T) {
	april := ts("2026-04-20T10:00:00Z")
	ids := func(ids ...string) applyflow.CustomerOptions {
		return applyflow.CustomerOptions{At: april, Customers: applyflow.Selection{IDs: ids}}
	}
	tests := []struct {
		name     string
		run      func(s *applyflow.Session) (*applyflow.Result, error)
		line     string
		headline string
		refusals []string
		changed  bool
	}{
		{
			name: "grant to a customer who holds it changes nothing",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Grant("spring-api-boost", ids("cus_001"))
			},
			line:     "grant spring-api-boost: already granted 1",
			headline: "grant spring-api-boost: 1 customer (cus_001)",
		},
		{
			name: "revoke names its customers sorted",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Revoke("spring-api-boost", ids("cus_014", "cus_001"))
			},
			line:     "revoke spring-api-boost: revoked 2",
			headline: "revoke spring-api-boost: 2 customers (cus_001, cus_014)",
			changed:  true,
		},
		{
			name: "a customer outside the directory is refused",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Grant("spring-api-boost", ids("cus_nope"))
			},
			line:     "grant spring-api-boost: nothing to do",
			headline: "grant spring-api-boost: 1 customer (cus_nope)",
			refusals: []string{"cus_nope: not in the customer directory"},
		},
		{
			name: "grant to all goes through grants.all",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Grant("spring-api-boost", applyflow.CustomerOptions{At: april, Customers: applyflow.Selection{All: true}})
			},
			line:     "grant spring-api-boost: grants.all granted",
			headline: "grant spring-api-boost: all eligible customers",
			changed:  true,
		},
		{
			name: "regrant by search looks among the promotion's customers",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Regrant("spring-api-boost", applyflow.CustomerOptions{At: april, Customers: applyflow.Selection{Search: "cus_016"}})
			},
			line:     "regrant spring-api-boost: re-granted 1",
			headline: "regrant spring-api-boost: 1 customer (cus_016)",
			changed:  true,
		},
		{
			name: "deactivate",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Deactivate("spring-api-boost", applyflow.DeactivateOptions{At: april})
			},
			line:     "deactivate spring-api-boost: deactivated, revoked 5",
			headline: "deactivate spring-api-boost",
			changed:  true,
		},
		{
			name: "activate an active promotion",
			run: func(s *applyflow.Session) (*applyflow.Result, error) {
				return s.Activate("spring-api-boost", applyflow.ActivateOptions{At: april})
			},
			line:     "activate spring-api-boost: already active",
			headline: "activate spring-api-boost",
		},
	}
	s := openAcme(t, acme)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run(s)
			require.NoError(t, err)
			assert.Equal(t, tt.line, res.Line())
			assert.Equal(t, tt.headline, res.Headline())
			assert.Equal(t, tt.headline+"\n\n"+res.Summary+"\n", res.CommitMessage())
			var refusals []string
			for _, r := range res.Refusals {
				refusals = append(refusals, r.String())
			}
			assert.Equal(t, tt.refusals, refusals)
			assert.Equal(t, len(tt.refusals) > 0, res.Refused())
			if tt.changed {
				require.NotNil(t, res.Change)
				assert.Equal(t, "promotions/spring-api-boost.yaml", res.Change.File)
				assert.NotEqual(t, string(res.Change.Old), string(res.Change.New))
			} else {
				assert.Nil(t, res.Change)
			}
		})
	}
}

func TestVerbErrors(t *testing.T) {
	april := ts("2026-04-20T10:00:00Z")
	search := func(q string) applyflow.CustomerOptions {
		return applyflow.CustomerOptions{At: april, Customers: applyflow.Selection{Search: q}}
	}
	noDirectory := copyAcme(t)
	require.NoError(t, os.RemoveAll(filepath.Join(noDirectory, "customers")))

	t.Run("unknown promotion", func(t *testing.T) {
		_, err := openAcme(t, acme).Revoke("spring-api-bost", search("x"))
		var unknown *applyflow.UnknownPromotionError
		require.ErrorAs(t, err, &unknown)
		assert.Equal(t, "spring-api-bost", unknown.ID)
		assert.Contains(t, unknown.Known, "spring-api-boost")
	})
	t.Run("a search that matches nobody", func(t *testing.T) {
		_, err := openAcme(t, acme).Grant("spring-api-boost", search("no such customer"))
		var none *applyflow.NoMatchError
		require.ErrorAs(t, err, &none)
		assert.Equal(t, "no such customer", none.Query)
	})
	t.Run("a directory search without a directory", func(t *testing.T) {
		_, err := openAcme(t, noDirectory).Grant("spring-api-boost", search("cus"))
		require.ErrorIs(t, err, applyflow.ErrNoDirectory)
	})
	t.Run("errors name no flag", func(t *testing.T) {
		for _, err := range []error{applyflow.ErrNoDirectory, &applyflow.NoMatchError{Query: "q"}, &applyflow.UnknownPromotionError{ID: "p"}} {
			assert.NotContains(t, err.Error(), "--")
		}
	})
}

func TestHeadlineNamesAtMostTen(t *testing.T) {
	var ids []string
	for i := 12; i >= 1; i-- {
		ids = append(ids, fmt.Sprintf("cus_%03d", i))
	}
	res := &applyflow.Result{Verb: applyflow.VerbGrant, Promotion: &promotions.Promotion{ID: "p"}, Customers: ids, Summary: "granted 12"}
	assert.Equal(t, "grant p: 12 customers (cus_001, cus_002, cus_003, cus_004, cus_005, cus_006, cus_007, cus_008, cus_009, cus_010, … 2 more)", res.Headline())
}
