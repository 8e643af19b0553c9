package console

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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

// A customer page shows a page of history; "Older changes" continues where
// the walk stopped, and the two pages together hold every change.
func TestCustomerHistoryContinuesWhereItStopped(t *testing.T) {
	f := newFixture(t)
	eu, err := os.ReadFile(filepath.Join(f.dir, "customers", "eu.yaml"))
	require.NoError(t, err)
	parent := f.mainTip
	for i := 1; i <= historyPage+2; i++ {
		content := strings.Replace(string(eu), "name: Fjordline Logistics", fmt.Sprintf("name: Fjordline Logistics %d", i), 1)
		c := gitstoreCommit(f, "promoctl/renames", "customers/eu.yaml", content)
		c.Parent, c.Message = parent, fmt.Sprintf("rename %d", i)
		parent, err = f.srv.git.Commit(c)
		require.NoError(t, err)
	}
	code, page := f.get(t, "/customers/cus_002?branch=promoctl/renames")
	require.Equal(t, http.StatusOK, code, page)
	history := page[strings.Index(page, `id="history-h"`):]
	assert.Equal(t, historyPage, strings.Count(history, "directory record changed"))
	assert.NotContains(t, history, "config repo")
	i := strings.Index(history, `href="`)
	require.Positive(t, i, "an Older changes link")
	older := html.UnescapeString(history[i+len(`href="`):])
	older = older[:strings.Index(older, `"`)]
	assert.Contains(t, older, "history_skip=")

	code, page = f.get(t, older)
	require.Equal(t, http.StatusOK, code, page)
	history = page[strings.Index(page, `id="history-h"`):]
	assert.Equal(t, 2, strings.Count(history, "directory record changed"), "the two oldest renames")
	assert.Contains(t, history, "config repo")
	assert.NotContains(t, history, "Older changes")
}
