package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateWithEligibility(t *testing.T) {
	f := newFixture(t)
	form := createForm("SSO for EU starters")
	form.Set("feature_type", "boolean")
	form.Set("feature", "sso")
	form.Del("mode")
	form.Del("allowance")
	form.Del("reset")
	form.Set("eligibility_form", "1")
	form["plan"] = []string{"starter"}
	form.Set("attr_key_0", "region")
	form.Set("attr_values_0", "eu, uk")
	form.Set("attr_key_1", "")
	form.Set("attr_values_1", "")
	resp, body := f.post(t, "/promotions", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, _ := f.onlyBranch(t)
	content := f.fileOn(t, branch.Name, "promotions/sso-for-eu-starters.yaml")
	assert.Contains(t, content, "eligibility:")
	assert.Contains(t, content, "plans: [starter]")
	assert.Contains(t, content, "region: [eu, uk]")
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestCreateFormOffersEligibility(t *testing.T) {
	f := newFixture(t)
	_, body := f.get(t, "/promotions/new")
	assert.Contains(t, body, "<legend>Eligible plans</legend>")
	for _, plan := range []string{"enterprise", "growth", "starter"} {
		assert.Contains(t, body, `<input type="checkbox" name="plan" value="`+plan+`"> `+plan+`</label>`, "a checkbox labelled with the plan key")
	}
	assert.Contains(t, body, `aria-label="Attribute key 1"`)
	assert.Contains(t, body, `aria-label="Allowed values 1"`)
}

func TestEligibilityMessagesAtTheField(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		key, values string
		want        string
	}{
		"values without a key": {"", "eu", "Enter the attribute that must have the values eu."},
		"key without values":   {"region", " , ", "Enter the values allowed for attribute region, separated by commas."},
	} {
		t.Run(name, func(t *testing.T) {
			form := createForm("Summer storage double")
			form.Set("eligibility_form", "1")
			form.Set("attr_key_0", tc.key)
			form.Set("attr_values_0", tc.values)
			resp, body := f.post(t, "/promotions", form)
			assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
			assert.Contains(t, body, tc.want)
			assert.Empty(t, f.branches(t))
		})
	}
}

func TestEditEligibilityOfAPromotionNotApplied(t *testing.T) {
	f := newFixture(t)
	_, page := f.get(t, "/promotions/summer-storage-bonus")
	assert.Contains(t, page, `value="growth" checked> growth`, "the current plans are checked")
	form := url.Values{"blob": {f.blob(t, "promotions/summer-storage-bonus.yaml")}, "name": {"Summer storage bonus"},
		"description":      {"+100 GB storage for 3 months for self-serve accounts"},
		"eligibility_form": {"1"}, "plan": {"growth"}, "attr_key_0": {"region"}, "attr_values_0": {"eu"}}
	resp, body := f.post(t, "/promotions/summer-storage-bonus", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)
	assert.Equal(t, "edit summer-storage-bonus: eligibility\n", commit.Message)
	content := f.fileOn(t, branch.Name, "promotions/summer-storage-bonus.yaml")
	assert.Contains(t, content, "eligibility:\n  plans: [growth]\n  attributes:\n    region: [eu]\nis_applied: false")
	assert.True(t, strings.HasPrefix(content, "# Summer campaign, drafted for review (MKT-402)."), "comments stay")
	f.validates(t, branch.Name)
	f.untouched(t)
}

func TestEligibilityIsLockedOnceApplied(t *testing.T) {
	f := newFixture(t)
	_, page := f.get(t, "/promotions/spring-api-boost")
	assert.Contains(t, page, `<fieldset class="strategic" disabled>`, "the eligibility inputs are inside the disabled fieldset")
	form := url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")}, "name": {"Spring API boost"},
		"eligibility_form": {"1"}, "plan": {"enterprise"}}
	resp, body := f.post(t, "/promotions/spring-api-boost", form)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, body, "LOCKED_FIELD")
	assert.Contains(t, body, "Eligibility cannot change: customers hold this promotion (it is applied).", "the field by its label")
	assert.Empty(t, f.branches(t), "nothing committed")
	f.untouched(t)
}
