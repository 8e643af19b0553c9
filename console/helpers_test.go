package console

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

func TestTypedHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"active promotion", isActive(promotions.StatusActive), true},
		{"deactivated promotion", isActive(promotions.StatusDeactivated), false},
		{"metered feature", isMetered(promotions.FeatureMetered), true},
		{"boolean feature", isMetered(promotions.FeatureBoolean), false},
		{"status active", statusClass(promotions.StatusActive), "ok"},
		{"status deactivated", statusClass(promotions.StatusDeactivated), "off"},
		{"state granted", stateClass(promotions.StateGranted), "ok"},
		{"state revoked", stateClass(promotions.StateRevoked), "bad"},
		{"effective active", effectiveClass(promotions.EffectiveActive), "ok"},
		{"effective scheduled", effectiveClass(promotions.EffectiveScheduled), "lock"},
		{"effective revoked", effectiveClass(promotions.EffectiveRevoked), "bad"},
		{"effective expired", effectiveClass(promotions.EffectiveExpired), "off"},
		{"reason scheduled", reasonClass(evaluator.ReasonScheduled), "lock"},
		{"reason revoked", reasonClass(evaluator.ReasonRevoked), "bad"},
		{"reason not eligible", reasonClass(evaluator.ReasonNotEligible), "warn"},
		{"reason deactivated", reasonClass(evaluator.ReasonDeactivated), "off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.got) })
	}
}

func TestCountByEffectiveRefusesAnUnknownState(t *testing.T) {
	counts := map[promotions.EffectiveState]int{promotions.EffectiveScheduled: 3}
	n, err := countByEffective(counts, "scheduled")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	_, err = countByEffective(counts, "schedule")
	assert.ErrorContains(t, err, `no effective state "schedule"`)
}

// A helper is typed: a page that hands it a plain string fails to render
// instead of comparing printed forms.
func TestTypedHelpersRefuseUntypedValues(t *testing.T) {
	pages, err := parseTemplates()
	require.NoError(t, err)
	tmpl, err := pages["details"].Clone()
	require.NoError(t, err)
	_, err = tmpl.New("probe").Parse(`{{statusClass .}}`)
	require.NoError(t, err)
	var out bytes.Buffer
	require.Error(t, tmpl.ExecuteTemplate(&out, "probe", "active"))
	out.Reset()
	require.NoError(t, tmpl.ExecuteTemplate(&out, "probe", promotions.StatusActive))
	assert.Equal(t, "ok", out.String())
}
