package console

import (
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

// view is the config repo compiled at one commit. Pages read it and never
// change it.
type view struct {
	commit plumbing.Hash
	fs     fs.FS
	res    *compiler.Result
	model  *promotions.Model // nil when the commit does not compile

	snapOnce sync.Once
	snap     *snapshot.Snapshot
	snapErr  error

	accessMu sync.Mutex
	access   map[string]*accessList

	dirOnce sync.Once
	dir     *searchIndex
	dirIDs  []string
}

// accessList is a promotion's customers at an instant with their search
// keys. Effective states change only where a period starts or ends, so the
// list holds for every instant of [from, until) (until zero: forever).
type accessList struct {
	rows        []promotions.Access
	keys        searchIndex
	from, until time.Time
}

// holds reports whether the list is the promotion's list at t.
func (l *accessList) holds(t time.Time) bool {
	return !t.Before(l.from) && (l.until.IsZero() || t.Before(l.until))
}

// searchIndex holds, for each item of a list, the lower-cased text a
// search looks through (id, name and email), built once per view so a
// search over 100k customers does not lower-case 300k strings.
type searchIndex []string

func searchKey(id, name, email string) string {
	return strings.ToLower(id + "\x00" + name + "\x00" + email)
}

// matches reports whether item i matches the lower-cased query.
func (ix searchIndex) matches(i int, query string) bool {
	return query == "" || strings.Contains(ix[i], query)
}

// directory is the customer directory in id order with its search keys.
func (v *view) directory() ([]string, searchIndex) {
	v.dirOnce.Do(func() {
		ids := v.model.CustomerIDs()
		keys := make(searchIndex, len(ids))
		for i, id := range ids {
			c := v.model.Customers[id]
			keys[i] = searchKey(c.ID, c.Name, c.Email)
		}
		v.dir = &keys
		v.dirIDs = ids
	})
	return v.dirIDs, *v.dir
}

// snapshot builds the decision snapshot on first use (the customer page).
func (v *view) snapshot() (*snapshot.Snapshot, error) {
	v.snapOnce.Do(func() {
		if v.model == nil {
			v.snapErr = fmt.Errorf("commit %s does not compile", v.commit)
			return
		}
		v.snap, v.snapErr = snapshot.Build(v.model, v.commit.String())
	})
	return v.snap, v.snapErr
}

// accessList is promotions.AccessList of one promotion at instant at,
// computed once per view and reused until a period of the promotion starts
// or ends: a promotion granted to all of 100k customers lists them all.
func (v *view) accessList(p *promotions.Promotion, at time.Time) *accessList {
	v.accessMu.Lock()
	defer v.accessMu.Unlock()
	if l, ok := v.access[p.ID]; ok && l.holds(at) {
		return l
	}
	var dir map[string]*promotions.Customer
	if v.model.HasDirectory {
		dir = v.model.Customers
	}
	l := &accessList{rows: promotions.AccessList(p, dir, at)}
	l.from, l.until = stableAround(p, at)
	l.keys = make(searchIndex, len(l.rows))
	for i, row := range l.rows {
		l.keys[i] = searchKey(row.ID, row.Name, row.Email)
	}
	if v.access == nil {
		v.access = map[string]*accessList{}
	}
	v.access[p.ID] = l
	return l
}

// stableAround is the interval around at in which no period of p starts or
// ends, so that every effective state, end and deciding grant (an entry
// decides from its first start) stays as it is at at.
func stableAround(p *promotions.Promotion, at time.Time) (from, until time.Time) {
	see := func(t time.Time) {
		if t.After(at) {
			if until.IsZero() || t.Before(until) {
				until = t
			}
		} else if t.After(from) {
			from = t
		}
	}
	spans := func(periods []promotions.Period) {
		for _, s := range p.Spans(periods) {
			see(s.Start)
			if s.End != nil {
				see(*s.End)
			}
		}
	}
	for i := range p.Grants.Customers {
		spans(p.Grants.Customers[i].Periods())
	}
	if p.Grants.All != nil {
		spans(p.Grants.All.Periods())
	}
	return from, until
}

// viewCache compiles each commit once and keeps the last few, so pages
// follow new commits on a branch and switching branches is cheap.
type viewCache struct {
	s     *Server
	cache *compiler.Cache
	mu    sync.Mutex
	views map[plumbing.Hash]*viewEntry
	order []plumbing.Hash
}

type viewEntry struct {
	once sync.Once
	v    *view
	err  error
}

// keptViews bounds memory: a compiled M repo holds ~100 MB.
const keptViews = 4

func newViewCache(s *Server) *viewCache {
	return &viewCache{s: s, cache: compiler.NewCache(), views: map[plumbing.Hash]*viewEntry{}}
}

// at returns the compiled view of commit.
func (c *viewCache) at(commit plumbing.Hash) (*view, error) {
	c.mu.Lock()
	e, ok := c.views[commit]
	if !ok {
		e = &viewEntry{}
		c.views[commit] = e
		c.order = append(c.order, commit)
		for len(c.order) > keptViews {
			delete(c.views, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	e.once.Do(func() { e.v, e.err = c.compile(commit) })
	return e.v, e.err
}

func (c *viewCache) compile(commit plumbing.Hash) (*view, error) {
	fsys, err := c.s.git.FS(commit)
	if err != nil {
		return nil, err
	}
	res, err := compiler.Load(fsys, compiler.Options{Limits: c.s.opts.Limits, Cache: c.cache})
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", commit, err)
	}
	return &view{commit: commit, fs: fsys, res: res, model: res.Model}, nil
}

// branchView resolves a branch to its tip and compiles it: the base branch
// when branch is empty.
// compiledView is branchView for a page that needs the branch compiled: it
// answers the request itself — 404 for a branch it cannot show, the
// broken-branch page for one that does not compile — and then returns
// false.
func (s *Server) compiledView(w http.ResponseWriter, r *http.Request, branch string) (string, *view, bool) {
	name, v, err := s.branchView(branch)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err.Error())
		return "", nil, false
	}
	if v.model == nil {
		s.brokenBranch(w, r, name, v)
		return "", nil, false
	}
	return name, v, true
}

func (s *Server) branchView(branch string) (string, *view, error) {
	if branch == "" {
		branch = s.base
	}
	if branch != s.base && !isConsoleBranch(branch) {
		return "", nil, fmt.Errorf("branch %q is neither the base branch nor one of the console's", branch)
	}
	tip, err := s.git.Tip(branch)
	if err != nil {
		return "", nil, err
	}
	v, err := s.views.at(tip)
	return branch, v, err
}
