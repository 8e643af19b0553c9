package console

import (
	"fmt"
	"io/fs"
	"sync"

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
	access   map[string][]promotions.Access
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

// accessList is promotions.AccessList of one promotion, computed once per
// view: a promotion granted to all of 100k customers lists them all.
func (v *view) accessList(p *promotions.Promotion) []promotions.Access {
	v.accessMu.Lock()
	defer v.accessMu.Unlock()
	if rows, ok := v.access[p.ID]; ok {
		return rows
	}
	var dir map[string]*promotions.Customer
	if v.model.HasDirectory {
		dir = v.model.Customers
	}
	rows := promotions.AccessList(p, dir)
	if v.access == nil {
		v.access = map[string][]promotions.Access{}
	}
	v.access[p.ID] = rows
	return rows
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
