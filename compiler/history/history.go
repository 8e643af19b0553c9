package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
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

// Commit is one commit of the ledger, with what it changed. Merge is set
// for a merge commit: its changes are those made in the merge itself (a
// file whose merged version equals none of its parents' versions), such
// as a grant added while resolving a conflict.
type Commit struct {
	Hash    string    `json:"commit"`
	Author  string    `json:"author"`
	Email   string    `json:"email"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
	Merge   bool      `json:"merge,omitempty"`
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
	Limit int
	// MaxCommits bounds the commits walked (0: DefaultMaxCommits; a
	// negative value walks the whole history).
	MaxCommits int
	// Deadline, when set, stops the walk at that instant.
	Deadline time.Time
	// Skip passes over that many commits first, without reading them: a
	// walk that stopped continues with Skip set to its Stats.Next.
	Skip   int
	Limits promotions.Limits
	// warm only indexes the file versions each commit changed (see Warm).
	warm bool
}

// DefaultMaxCommits bounds a walk when Query.MaxCommits is not set: a
// history query on a long-lived repo answers in bounded time and says
// where it stopped.
const DefaultMaxCommits = 2000

// Stop says why a walk ended before the first commit of the history.
type Stop string

const (
	Complete      Stop = ""            // the whole history was read
	PageFull      Stop = "page full"   // Limit commits with a change were found
	CommitBound   Stop = "max commits" // MaxCommits commits were walked
	DeadlineReach Stop = "deadline"    // the deadline passed
	Cancelled     Stop = "cancelled"   // the context was cancelled
)

// Stats says how much of the history a walk read and where it stopped.
type Stats struct {
	Commits int // commits walked (not counting those skipped)
	Diffed  int // commits whose tree differed in a config file
	Parsed  int // file versions parsed
	// Stopped is why the walk ended early (Complete when it did not);
	// Next is the Skip that continues from there, and Last the last commit
	// walked (its hash and date).
	Stopped  Stop
	Next     int
	Last     string
	LastDate time.Time
}

// Walk is WalkContext without cancellation.
func Walk(dir string, q Query) ([]Commit, Stats, error) {
	return WalkContext(context.Background(), dir, q)
}

// WalkContext reads the history of the git repository holding dir (a
// config repo, possibly a sub-directory of the work tree) from HEAD (or
// q.From), newest first, until the whole history is read or the walk is
// bounded: a page of changes (q.Limit), q.MaxCommits commits, q.Deadline,
// or ctx cancelled (a console request whose client went away). Stats say
// which, and where to continue. A merge commit reports what was changed
// in the merge itself; a change brought in from a parent is reported
// once, in the commit that made it.
func WalkContext(ctx context.Context, dir string, q Query) ([]Commit, Stats, error) {
	var st Stats
	if (q.Promotion == "") == (q.Customer == "") && !q.warm {
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
	maxCommits := q.MaxCommits
	if maxCommits == 0 {
		maxCommits = DefaultMaxCommits
	}
	w := newWalker(repo, q, prefix, &st)
	var out []Commit
	passed := 0
	st.Next = q.Skip
	err = it.ForEach(func(c *object.Commit) error {
		if skip[c.Hash] {
			return nil
		}
		if passed < q.Skip {
			passed++
			return nil
		}
		switch {
		case ctx.Err() != nil:
			st.Stopped = Cancelled
		case !q.Deadline.IsZero() && !time.Now().Before(q.Deadline):
			st.Stopped = DeadlineReach
		case maxCommits > 0 && st.Commits >= maxCommits:
			st.Stopped = CommitBound
		case q.Limit > 0 && len(out) >= q.Limit:
			st.Stopped = PageFull
		}
		if st.Stopped != Complete {
			return storer.ErrStop
		}
		st.Commits++
		st.Next++
		st.Last, st.LastDate = c.Hash.String(), c.Author.When.UTC()
		changes, err := w.commit(c)
		if err != nil {
			return fmt.Errorf("commit %s: %w", c.Hash.String()[:12], err)
		}
		if len(changes) > 0 {
			subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
			out = append(out, Commit{Hash: c.Hash.String(), Author: c.Author.Name, Email: c.Author.Email,
				Date: c.Author.When.UTC(), Subject: subject, Merge: c.NumParents() > 1, Changes: changes})
		}
		return nil
	})
	return out, st, err
}

// Warm walks the history from HEAD (or from) as a customer page would,
// at most DefaultMaxCommits commits or until ctx is done, and indexes each
// config file version a commit changed: the first customer page after it
// reads only the files that can concern its customer.
func Warm(ctx context.Context, dir, from string) error {
	_, _, err := WalkContext(ctx, dir, Query{From: from, warm: true})
	return err
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
	repo   *git.Repository
	q      Query
	prefix string
	st     *Stats
	// parsed and excerpts remember file versions by blob hash: the
	// version after one commit is the version before the next one walked.
	parsed   map[plumbing.Hash]*side
	excerpts map[plumbing.Hash][]byte
}

func newWalker(repo *git.Repository, q Query, prefix string, st *Stats) *walker {
	return &walker{repo: repo, q: q, prefix: prefix, st: st, parsed: map[plumbing.Hash]*side{}, excerpts: map[plumbing.Hash][]byte{}}
}

// maxRemembered bounds the file versions a walker remembers.
const maxRemembered = 64

// configTree returns the tree of the config repo in commit c (nil when
// the commit has no such directory).
func (w *walker) configTree(c *object.Commit) (*object.Tree, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	if w.prefix == "" {
		return tree, nil
	}
	return subTree(tree, w.prefix)
}

// version is one file version: its path and blob (a zero hash when the
// file is absent or not a regular file).
type version struct {
	name string
	hash plumbing.Hash
}

// commit returns the changes c made: against its parent (the empty tree
// for the first commit), or for a merge, the changes made in the merge.
func (w *walker) commit(c *object.Commit) ([]Change, error) {
	tree, err := w.configTree(c)
	if err != nil {
		return nil, err
	}
	parents := make([]*object.Tree, c.NumParents())
	for i := range parents {
		p, err := c.Parent(i)
		if err != nil {
			return nil, err
		}
		if parents[i], err = w.configTree(p); err != nil {
			return nil, err
		}
	}
	if len(parents) > 1 {
		return w.merge(tree, parents)
	}
	var parent *object.Tree
	if len(parents) == 1 {
		parent = parents[0]
	}
	// Comparing the sub-trees of the config repo first skips, by hash, the
	// commits that touch nothing in it.
	if tree != nil && parent != nil && tree.Hash == parent.Hash {
		return nil, nil
	}
	pairs, err := configPairs(parent, tree)
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	w.st.Diffed++
	return w.changes(parent, tree, pairs)
}

// configPairs lists the config files that differ between two trees, as
// (before, after) versions.
func configPairs(from, to *object.Tree) ([][2]version, error) {
	if from == nil && to == nil {
		return nil, nil
	}
	diff, err := object.DiffTree(from, to)
	if err != nil {
		return nil, err
	}
	var out [][2]version
	for _, ch := range diff {
		if !isConfig(ch.From.Name) && !isConfig(ch.To.Name) {
			continue
		}
		out = append(out, [2]version{versionOf(ch.From), versionOf(ch.To)})
	}
	return out, nil
}

// versionOf names a diff entry's blob; a submodule (gitlink) or another
// entry that is no regular file has none and is skipped.
func versionOf(e object.ChangeEntry) version {
	v := version{name: e.Name}
	if e.Name != "" && isConfig(e.Name) && isRegular(e.TreeEntry.Mode) {
		v.hash = e.TreeEntry.Hash
	}
	return v
}

func isRegular(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

// entryAt returns the version of name in tree (a zero hash when absent).
func entryAt(tree *object.Tree, name string) version {
	v := version{name: name}
	if tree == nil {
		return v
	}
	if e, err := tree.FindEntry(name); err == nil && isRegular(e.Mode) {
		v.hash = e.Hash
	}
	return v
}

// merge returns the changes made in a merge commit: each config file whose
// version in the merge equals none of its parents' is compared with every
// parent, and a change counts when it shows against each of them — what
// the merge added itself, not what it brought in from one side.
func (w *walker) merge(tree *object.Tree, parents []*object.Tree) ([]Change, error) {
	candidates, err := configPairs(parents[0], tree)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, pair := range candidates {
		name := pair[1].name
		if name == "" {
			name = pair[0].name
		}
		merged := entryAt(tree, name)
		own := true
		for _, p := range parents {
			if entryAt(p, name).hash == merged.hash {
				own = false
				break
			}
		}
		if own {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	w.st.Diffed++
	var common []Change
	for i, p := range parents {
		pairs := make([][2]version, len(names))
		for j, name := range names {
			pairs[j] = [2]version{entryAt(p, name), entryAt(tree, name)}
		}
		changes, err := w.changes(p, tree, pairs)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			common = changes
			continue
		}
		kept := common[:0]
		for _, ch := range common {
			for _, other := range changes {
				if ch == other {
					kept = append(kept, ch)
					break
				}
			}
		}
		common = kept
	}
	return common, nil
}

// changes compares the versions of changed files. For a customer query a
// pair whose excerpts (the customer's items, grants.all, the top-level
// lines) read the same cannot change the customer and is not parsed.
func (w *walker) changes(parent, tree *object.Tree, pairs [][2]version) ([]Change, error) {
	before, after := &side{}, &side{}
	for _, pair := range pairs {
		if w.q.Customer != "" || w.q.warm {
			// A pair neither of whose versions names the customer (nor has
			// a grants.all block) cannot change what concerns them.
			concern, err := w.mayConcern(pair[0])
			if err != nil {
				return nil, err
			}
			if !concern || w.q.warm {
				concernAfter, err := w.mayConcern(pair[1])
				if err != nil {
					return nil, err
				}
				concern = concern || concernAfter
			}
			if !concern || w.q.warm {
				continue
			}
			same, err := w.sameExcerpt(pair[0].hash, pair[1].hash)
			if err != nil {
				return nil, err
			}
			if same {
				continue
			}
		}
		if err := w.read(before, pair[0]); err != nil {
			return nil, err
		}
		if err := w.read(after, pair[1]); err != nil {
			return nil, err
		}
	}
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

// add puts what one file holds into the side.
func (s *side) add(o *side) {
	for id, p := range o.promotions {
		if s.promotions == nil {
			s.promotions = map[string]*promotions.Promotion{}
		}
		s.promotions[id] = p
	}
	for id, c := range o.customers {
		if s.customers == nil {
			s.customers = map[string]promotions.Customer{}
		}
		s.customers[id] = c
	}
}

// blob reads a file version (nil for none, or one over the size limit).
func (w *walker) blob(v version) ([]byte, error) {
	if v.hash.IsZero() {
		return nil, nil
	}
	b, err := w.repo.BlobObject(v.hash)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.name, err)
	}
	if w.q.Limits.MaxFileBytes > 0 && b.Size > w.q.Limits.MaxFileBytes {
		return nil, nil
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// read parses one changed file version when it can concern the query: a
// file that does not mention the promotion id (or customer id, or
// grants.all) cannot.
func (w *walker) read(s *side, v version) error {
	if v.hash.IsZero() {
		return nil
	}
	parsed, ok := w.parsed[v.hash]
	if !ok {
		src, err := w.blob(v)
		if err != nil {
			return err
		}
		parsed = w.parse(v.name, src)
		remember(w.parsed, v.hash, parsed)
	}
	s.add(parsed)
	return nil
}

// parse decodes what one file version holds for the query.
func (w *walker) parse(name string, src []byte) *side {
	s := &side{}
	needle := w.q.Promotion
	if needle == "" {
		needle = w.q.Customer
	}
	if src == nil || !bytes.Contains(src, []byte(needle)) && (w.q.Customer == "" || !bytes.Contains(src, []byte("all:"))) {
		return s
	}
	if w.q.Customer != "" {
		// Only the lines about the customer need parsing: a promotion's
		// other grants and a directory's other records are left out.
		if reduced, ok := forCustomer(src, w.q.Customer); ok {
			src = reduced
		}
	}
	doc, _ := yamldoc.ParseDocument(name, src, w.q.Limits)
	if doc == nil {
		return s
	}
	w.st.Parsed++
	switch doc.Kind {
	case promotions.KindPromotion:
		p := yamldoc.DecodePromotion(doc)
		s.promotions = map[string]*promotions.Promotion{p.ID: &p}
	case promotions.KindCustomers:
		if w.q.Customer == "" {
			return s
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
	return s
}

// mayConcern reports whether a file version can hold anything about the
// customer asked for, from the mention index (indexing the version first
// when it is not there yet).
func (w *walker) mayConcern(v version) (bool, error) {
	if v.hash.IsZero() {
		return false, nil
	}
	if blobMentions == nil {
		return true, nil // no index: every version is read
	}
	if e, ok := blobMentions.get(v.hash); ok {
		return e.mayConcern(w.q.Customer, w.q.Limits.MaxFileBytes), nil
	}
	b, err := w.repo.BlobObject(v.hash)
	if err != nil {
		return false, fmt.Errorf("%s: %w", v.name, err)
	}
	if w.q.Limits.MaxFileBytes > 0 && b.Size > w.q.Limits.MaxFileBytes {
		return false, nil // never read, so it concerns no one
	}
	r, err := b.Reader()
	if err != nil {
		return false, fmt.Errorf("%s: %w", v.name, err)
	}
	defer r.Close()
	src, err := io.ReadAll(r)
	if err != nil {
		return false, fmt.Errorf("%s: %w", v.name, err)
	}
	e := indexMentions(b.Size, src)
	blobMentions.put(v.hash, e)
	return e.mayConcern(w.q.Customer, w.q.Limits.MaxFileBytes), nil
}

// sameExcerpt reports whether two versions of a file read the same for
// the customer asked for (see excerpt).
func (w *walker) sameExcerpt(a, b plumbing.Hash) (bool, error) {
	ea, okA, err := w.excerptOf(a)
	if err != nil || !okA {
		return false, err
	}
	eb, okB, err := w.excerptOf(b)
	if err != nil || !okB {
		return false, err
	}
	return bytes.Equal(ea, eb), nil
}

func (w *walker) excerptOf(h plumbing.Hash) ([]byte, bool, error) {
	if h.IsZero() {
		return nil, false, nil
	}
	if e, ok := w.excerpts[h]; ok {
		return e, e != nil, nil
	}
	src, err := w.blob(version{name: h.String(), hash: h})
	if err != nil {
		return nil, false, err
	}
	var e []byte
	if src != nil {
		e, _ = excerpt(src, w.q.Customer)
	}
	remember(w.excerpts, h, e)
	return e, e != nil, nil
}

// remember stores a value by blob hash, forgetting everything once the
// map holds maxRemembered values.
func remember[V any](m map[plumbing.Hash]V, h plumbing.Hash, v V) {
	if len(m) >= maxRemembered {
		clear(m)
	}
	m[h] = v
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
