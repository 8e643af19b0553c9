package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/promoctl/promoctl/internal/treefs"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// Kind is what happened to a promotion or a customer in one commit.
type Kind string

const (
	Created       Kind = "created"
	Deleted       Kind = "deleted"
	FieldChanged  Kind = "field changed"
	Granted       Kind = "granted"
	Revoked       Kind = "revoked"
	Regranted     Kind = "re-granted"
	Renewed       Kind = "renewed"
	Deactivated   Kind = "deactivated"
	Activated     Kind = "activated"
	RecordAdded   Kind = "directory record added"
	RecordChanged Kind = "directory record changed"
	RecordRemoved Kind = "directory record removed"
)

// Change is one thing a commit changed. Customer is empty for a change of
// the promotion itself or of grants.all; Promotion is empty for a change
// of a customer's directory record.
type Change struct {
	Promotion string `json:"promotion"`
	Customer  string `json:"customer,omitempty"`
	Change    Kind   `json:"change"`
	Field     string `json:"field,omitempty"`
}

// Commit is one commit of the ledger, with what it changed.
type Commit struct {
	Hash    string    `json:"commit"`
	Author  string    `json:"author"`
	Email   string    `json:"email"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
	Changes []Change  `json:"changes"`
}

// Query selects the ledger of one promotion or one customer.
type Query struct {
	Promotion string
	Customer  string
	// Since, when set, is a revision whose changes (and its ancestors')
	// are left out.
	Since string
	// From is the revision the walk starts at (a branch, say); HEAD when
	// empty.
	From string
	// Limit, when positive, stops the walk once that many commits with a
	// change are found: a page of the newest changes reads only the
	// newest history.
	Limit  int
	Limits promotions.Limits
}

// Stats says how much of the history a walk read.
type Stats struct {
	Commits int // commits walked
	Diffed  int // commits whose tree differed in a config file
	Parsed  int // file versions parsed
}

// Walk reads the history of the git repository holding dir (a config
// repo, possibly a sub-directory of the work tree) from HEAD, newest
// first. Merge commits are not diffed: each change is reported once, in
// the commit that introduced it.
func Walk(dir string, q Query) ([]Commit, Stats, error) {
	var st Stats
	if (q.Promotion == "") == (q.Customer == "") {
		return nil, st, errors.New("history needs a promotion or a customer")
	}
	if q.Limits == (promotions.Limits{}) {
		q.Limits = promotions.DefaultLimits
	}
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, st, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	prefix, err := treefs.WorktreeSubPath(repo, dir)
	if err != nil {
		return nil, st, err
	}
	from, err := startOf(repo, q.From)
	if err != nil {
		return nil, st, fmt.Errorf("history of %s: %w", dir, err)
	}
	skip, err := ancestors(repo, q.Since)
	if err != nil {
		return nil, st, err
	}
	it, err := repo.Log(&git.LogOptions{From: from, Order: git.LogOrderCommitterTime})
	if err != nil {
		return nil, st, fmt.Errorf("read the log of %s: %w", dir, err)
	}
	w := &walker{q: q, prefix: prefix, st: &st}
	var out []Commit
	err = it.ForEach(func(c *object.Commit) error {
		if skip[c.Hash] {
			return nil
		}
		st.Commits++
		if c.NumParents() > 1 {
			return nil
		}
		changes, err := w.commit(c)
		if err != nil {
			return fmt.Errorf("commit %s: %w", c.Hash.String()[:12], err)
		}
		if len(changes) > 0 {
			subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
			out = append(out, Commit{Hash: c.Hash.String(), Author: c.Author.Name, Email: c.Author.Email,
				Date: c.Author.When.UTC(), Subject: subject, Changes: changes})
			if q.Limit > 0 && len(out) >= q.Limit {
				return storer.ErrStop
			}
		}
		return nil
	})
	return out, st, err
}

// startOf resolves the revision a walk starts at: HEAD when rev is empty.
func startOf(repo *git.Repository, rev string) (plumbing.Hash, error) {
	if rev == "" {
		head, err := repo.Head()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read HEAD: %w", err)
		}
		return head.Hash(), nil
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("resolve %s: %w", rev, err)
	}
	return *h, nil
}

// SinceError is a Query.Since revision that cannot be read.
type SinceError struct {
	Rev string
	Err error
}

func (e *SinceError) Error() string { return fmt.Sprintf("since revision %s: %v", e.Rev, e.Err) }

func (e *SinceError) Unwrap() error { return e.Err }

// ancestors returns since and every commit it descends from.
func ancestors(repo *git.Repository, since string) (map[plumbing.Hash]bool, error) {
	out := map[plumbing.Hash]bool{}
	if since == "" {
		return out, nil
	}
	h, err := repo.ResolveRevision(plumbing.Revision(since))
	if err != nil {
		return nil, &SinceError{Rev: since, Err: err}
	}
	it, err := repo.Log(&git.LogOptions{From: *h})
	if err != nil {
		return nil, &SinceError{Rev: since, Err: err}
	}
	err = it.ForEach(func(c *object.Commit) error { out[c.Hash] = true; return nil })
	return out, err
}

type walker struct {
	q      Query
	prefix string
	st     *Stats
}

// commit diffs c against its parent (the empty tree for the first commit)
// and returns the changes of the files it touched.
func (w *walker) commit(c *object.Commit) ([]Change, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	var parent *object.Tree
	if c.NumParents() == 1 {
		p, err := c.Parent(0)
		if err != nil {
			return nil, err
		}
		if parent, err = p.Tree(); err != nil {
			return nil, err
		}
	}
	// Comparing the sub-trees of the config repo first skips, by hash, the
	// commits that touch nothing in it.
	if w.prefix != "" {
		tree, err = subTree(tree, w.prefix)
		if err != nil {
			return nil, err
		}
		if parent != nil {
			if parent, err = subTree(parent, w.prefix); err != nil {
				return nil, err
			}
		}
	}
	if tree != nil && parent != nil && tree.Hash == parent.Hash {
		return nil, nil
	}
	diff, err := object.DiffTree(parent, tree)
	if err != nil {
		return nil, err
	}
	before, after := &side{}, &side{}
	touched := false
	for _, ch := range diff {
		from, to := ch.From.Name, ch.To.Name
		if !isConfig(from) && !isConfig(to) {
			continue
		}
		touched = true
		if err := w.read(before, parent, ch.From); err != nil {
			return nil, err
		}
		if err := w.read(after, tree, ch.To); err != nil {
			return nil, err
		}
	}
	if !touched {
		return nil, nil
	}
	w.st.Diffed++
	return w.compare(before, after), nil
}

func isConfig(name string) bool {
	if name == "" {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// side is what the changed files of one side of a diff hold.
type side struct {
	promotions map[string]*promotions.Promotion
	customers  map[string]promotions.Customer
}

// read parses one changed file version when it can concern the query: a
// file that does not mention the promotion id (or customer id, or
// grants.all) cannot.
func (w *walker) read(s *side, tree *object.Tree, entry object.ChangeEntry) error {
	if entry.Name == "" || tree == nil || !isConfig(entry.Name) {
		return nil
	}
	f, err := tree.TreeEntryFile(&entry.TreeEntry)
	if err != nil {
		return err
	}
	if f.Size > w.q.Limits.MaxFileBytes && w.q.Limits.MaxFileBytes > 0 {
		return nil
	}
	r, err := f.Reader()
	if err != nil {
		return err
	}
	src, err := io.ReadAll(r)
	_ = r.Close()
	if err != nil {
		return err
	}
	needle := w.q.Promotion
	if needle == "" {
		needle = w.q.Customer
	}
	if !bytes.Contains(src, []byte(needle)) && (w.q.Customer == "" || !bytes.Contains(src, []byte("all:"))) {
		return nil
	}
	doc, _ := yamldoc.ParseDocument(entry.Name, src, w.q.Limits)
	if doc == nil {
		return nil
	}
	w.st.Parsed++
	switch doc.Kind {
	case promotions.KindPromotion:
		p := yamldoc.DecodePromotion(doc)
		if s.promotions == nil {
			s.promotions = map[string]*promotions.Promotion{}
		}
		s.promotions[p.ID] = &p
	case promotions.KindCustomers:
		if w.q.Customer == "" {
			return nil
		}
		for _, c := range yamldoc.DecodeCustomers(doc).Customers {
			if c.ID == w.q.Customer {
				if s.customers == nil {
					s.customers = map[string]promotions.Customer{}
				}
				s.customers[c.ID] = c
			}
		}
	}
	return nil
}

// compare lists the changes between the two sides, promotions by id (so
// a moved file is no change), in a stable order.
func (w *walker) compare(before, after *side) []Change {
	var out []Change
	ids := map[string]bool{}
	for id := range before.promotions {
		ids[id] = true
	}
	for id := range after.promotions {
		ids[id] = true
	}
	for _, id := range promotions.SortedKeys(ids) {
		if w.q.Promotion != "" && id != w.q.Promotion {
			continue
		}
		out = append(out, w.promotion(id, before.promotions[id], after.promotions[id])...)
	}
	if c := w.q.Customer; c != "" {
		old, wasIn := before.customers[c]
		cur, isIn := after.customers[c]
		switch {
		case !wasIn && isIn:
			out = append(out, Change{Customer: c, Change: RecordAdded})
		case wasIn && !isIn:
			// A record that moved to another file is not removed; only a
			// file of the diff is read, so say what is known.
			out = append(out, Change{Customer: c, Change: RecordRemoved})
		case wasIn && isIn:
			for _, f := range recordFields(old, cur) {
				out = append(out, Change{Customer: c, Change: RecordChanged, Field: f})
			}
		}
	}
	return out
}

func recordFields(a, b promotions.Customer) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, "name")
	}
	if a.Email != b.Email {
		out = append(out, "email")
	}
	if a.Plan != b.Plan {
		out = append(out, "plan")
	}
	keys := map[string]bool{}
	for k := range a.Attributes {
		keys[k] = true
	}
	for k := range b.Attributes {
		keys[k] = true
	}
	for _, k := range promotions.SortedKeys(keys) {
		if a.Attributes[k] != b.Attributes[k] {
			out = append(out, "attributes."+k)
		}
	}
	return out
}

// promotion lists what changed in one promotion; for a customer query,
// only what concerns that customer: their entry, and grants.all.
func (w *walker) promotion(id string, old, cur *promotions.Promotion) []Change {
	var out []Change
	add := func(customer string, k Kind, field string) {
		out = append(out, Change{Promotion: id, Customer: customer, Change: k, Field: field})
	}
	forCustomer := w.q.Customer != ""
	switch {
	case old == nil && cur == nil:
		return nil
	case old == nil:
		if !forCustomer {
			add("", Created, "")
		}
		old = &promotions.Promotion{ID: id, Status: cur.Status, Duration: cur.Duration}
	case cur == nil:
		if !forCustomer {
			add("", Deleted, "")
		}
		return out
	}
	if !forCustomer && !isNew(out) {
		for _, f := range fieldChanges(old, cur) {
			switch {
			case f == "status" && cur.Status == promotions.StatusDeactivated:
				add("", Deactivated, "")
			case f == "status":
				add("", Activated, "")
			case f == "deactivated_at":
			default:
				add("", FieldChanged, f)
			}
		}
	}
	if k, ok := allChange(cur, old.Grants.All, cur.Grants.All); ok {
		add("", k, "grants.all")
	}
	before := map[string]*promotions.CustomerGrant{}
	for i := range old.Grants.Customers {
		g := &old.Grants.Customers[i]
		if _, dup := before[g.ID]; !dup {
			before[g.ID] = g
		}
	}
	seen := map[string]bool{}
	for i := range cur.Grants.Customers {
		g := &cur.Grants.Customers[i]
		if seen[g.ID] || (forCustomer && g.ID != w.q.Customer) {
			continue
		}
		seen[g.ID] = true
		if k, ok := entryChange(cur, before[g.ID], g); ok {
			add(g.ID, k, "")
		}
	}
	return out
}

func isNew(out []Change) bool { return len(out) > 0 && out[0].Change == Created }

// entryChange names what happened to one customer entry.
func entryChange(p *promotions.Promotion, old, cur *promotions.CustomerGrant) (Kind, bool) {
	if old == nil {
		if cur.State == promotions.StateRevoked {
			return Revoked, true // an exception to grants.all
		}
		return Granted, true
	}
	return periodChange(p, old.Periods(), cur.Periods())
}

func allChange(p *promotions.Promotion, old, cur *promotions.AllGrant) (Kind, bool) {
	switch {
	case old == nil && cur == nil:
		return "", false
	case old == nil:
		return Granted, true
	case cur == nil:
		return Deleted, true
	}
	return periodChange(p, old.Periods(), cur.Periods())
}

// periodChange compares a grant's periods: a period after the base's is a
// renewal (after an expiry) or a re-grant (after a revocation); a
// revoked_at added to the last one is a revocation.
func periodChange(p *promotions.Promotion, old, cur []promotions.Period) (Kind, bool) {
	if len(cur) > len(old) && len(old) > 0 {
		if p.Span(cur[len(old)-1]).Revoked {
			return Regranted, true
		}
		return Renewed, true
	}
	if len(cur) != len(old) || len(cur) == 0 {
		return FieldChanged, true
	}
	o, c := old[len(old)-1], cur[len(cur)-1]
	switch {
	case o.RevokedAt == nil && c.RevokedAt != nil:
		return Revoked, true
	case !o.GrantedAt.Equal(c.GrantedAt) || (o.RevokedAt == nil) != (c.RevokedAt == nil) ||
		(o.RevokedAt != nil && !o.RevokedAt.Equal(*c.RevokedAt)):
		return FieldChanged, true
	}
	return "", false
}

// fieldChanges lists the top-level fields (besides grants) whose value
// differs.
func fieldChanges(a, b *promotions.Promotion) []string {
	var out []string
	check := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	check("name", a.Name != b.Name)
	check("description", a.Description != b.Description)
	check("status", a.Status != b.Status)
	check("deactivated_at", !sameTime(a.DeactivatedAt, b.DeactivatedAt))
	check("feature", a.Feature != b.Feature)
	check("window", !sameTime(a.Window.Start, b.Window.Start) || !sameTime(a.Window.End, b.Window.End))
	check("duration", fmt.Sprint(a.Duration) != fmt.Sprint(b.Duration) && !(a.Duration != nil && b.Duration != nil && *a.Duration == *b.Duration))
	check("metered", fmt.Sprint(derefMetered(a.Metered)) != fmt.Sprint(derefMetered(b.Metered)))
	check("eligibility", a.Eligibility.String() != b.Eligibility.String())
	check("is_applied", a.IsApplied != b.IsApplied)
	sort.Strings(out)
	return out
}

func derefMetered(m *promotions.Metered) any {
	if m == nil {
		return nil
	}
	return *m
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func subTree(t *object.Tree, prefix string) (*object.Tree, error) {
	sub, err := t.Tree(prefix)
	if errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, nil
	}
	return sub, err
}
