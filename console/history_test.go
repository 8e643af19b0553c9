package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The customer page ends with the customer's history from git, read from
// the branch shown: a grant committed on a console branch appears there,
// with its author and subject, and not on the base branch.
func TestCustomerPageShowsHistoryOfTheBranch(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/promotions/spring-api-boost/grant", url.Values{"blob": {f.blob(t, "promotions/spring-api-boost.yaml")},
		"customer": {"cus_002"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	branch, commit := f.onlyBranch(t)

	code, page := f.get(t, "/customers/cus_002?branch="+url.QueryEscape(branch.Name))
	require.Equal(t, http.StatusOK, code, page)
	history := page[strings.Index(page, `id="history-h"`):]
	assert.Contains(t, history, commit.Hash.String()[:12])
	assert.Contains(t, history, "grant spring-api-boost: 1 customer")
	assert.Contains(t, history, testAuthor.Name)
	assert.Contains(t, history, "spring-api-boost: granted")
	assert.Contains(t, history, "config repo", "the first commit created the record and the promotions")

	code, page = f.get(t, "/customers/cus_002")
	require.Equal(t, http.StatusOK, code, page)
	assert.NotContains(t, page[strings.Index(page, `id="history-h"`):], commit.Hash.String()[:12], "the base branch has no such commit")
	f.untouched(t)
}
