package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/console/gitstore"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

// change is one action to commit.
type change struct {
	// action and promotion name the new branch: promoctl/<action>-<id>-….
	action, promotion string
	// file is the file the action edits (created when blob is "").
	file string
	// blob is the file's hash on the branch when the form was rendered;
	// the write is refused as stale when it differs now.
	blob string
	// target is the console branch to add the commit to; "" makes a new
	// branch from the base branch.
	target string
	// edit plans and checks the change of file through the apply-flow
	// session opened on the tree at the parent commit — the same code the
	// CLI's editing commands run. It returns refusals (nothing is
	// committed then) or the checked change and the commit message; a
	// change the session finds invalid is an *applyflow.InvalidError.
	edit func(w *workspace) (change *applyflow.Change, message string, refusals []string, err error)
}

// workspace is what an edit plans against: the tree of the commit the new
// commit will have as parent, compiled, and the apply-flow session on it.
type workspace struct {
	v       *view
	parent  plumbing.Hash
	session *applyflow.Session
}

// outcome is what a write did.
type outcome struct {
	Branch string
	// Promotion is the id of the promotion the action changed: the page
	// after it links back there.
	Promotion string
	Commit    plumbing.Hash
	Message   string
	Pushed    bool
	PullURL   string
	Refusals  []string
	// Diagnostics are the validation errors that refused the change.
	Diagnostics promotions.Diagnostics
	// Stale is set when the file or the branch moved since the form was
	// rendered; Reload shows the current state.
	Stale string
}

func (o *outcome) refused() bool {
	return len(o.Refusals) > 0 || len(o.Diagnostics) > 0 || o.Stale != ""
}

// errNoChange says that the action changes nothing.
var errNoChange = errors.New("nothing to change")

// commitChange runs c: it picks the parent (the base branch's tip, fetched
// first with --push, or the target branch's tip), checks that the edited
// file is the one the form saw, plans the edit, validates the whole repo
// with the edit against the merge-base with the base branch (the lock
// included), and makes one commit on the branch. A refusal commits
// nothing.
func (s *Server) commitChange(r *http.Request, c change) (*outcome, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	baseTip, err := s.baseTip()
	if err != nil {
		return nil, err
	}
	parent, branch := baseTip, c.target
	if branch != "" {
		if !isConsoleBranch(branch) {
			return &outcome{Refusals: []string{fmt.Sprintf("Branch %s is not one of the console's: the console commits to promoctl/… branches only.", branch)}}, nil
		}
		if parent, err = s.git.Tip(branch); err != nil {
			return &outcome{Refusals: []string{fmt.Sprintf("Branch %s is gone (merged or deleted?): choose a new branch.", branch)}}, nil
		}
	}
	out := &outcome{}
	blob, err := s.git.BlobHash(parent, c.file)
	if err != nil {
		return nil, err
	}
	if blob != c.blob {
		where := "the base branch " + s.base
		if c.target != "" {
			where = "this branch (" + c.target + ")"
		}
		switch {
		case c.blob == "":
			out.Stale = fmt.Sprintf("The file %s was created on %s since this form was opened.", c.file, where)
		case blob == "" && c.target == "":
			out.Stale = fmt.Sprintf("The file %s does not exist on the base branch %s: the promotion is only on the branch this form was opened on, so the change must go to that branch.", c.file, s.base)
		case blob == "":
			out.Stale = fmt.Sprintf("The file %s was removed from %s since this form was opened.", c.file, where)
		default:
			out.Stale = fmt.Sprintf("The file %s changed on %s since this form was opened (someone committed to it).", c.file, where)
		}
		return out, nil
	}
	v, err := s.views.at(parent)
	if err != nil {
		return nil, err
	}
	if v.model == nil {
		out.Refusals = []string{"the branch does not compile; fix it first"}
		return out, nil
	}
	// The lock and grant history are checked against the merge-base
	// with the base branch, so a branch that fell behind shows no false
	// violations.
	mergeBase, err := s.git.MergeBase(parent, baseTip)
	if err != nil {
		return nil, err
	}
	baseFS, err := s.git.FS(mergeBase)
	if err != nil {
		return nil, err
	}
	session, err := applyflow.Open(v.fs, applyflow.Options{Validator: &compiler.Validator{Limits: s.opts.Limits, Cache: s.views.cache}, Base: baseFS})
	var invalid *applyflow.InvalidError
	if errors.As(err, &invalid) {
		out.Refusals = []string{"the branch is invalid before this change (promoctl validate shows why); fix it first"}
		out.Diagnostics = invalid.Diagnostics
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	checked, message, refusals, err := c.edit(&workspace{v: v, parent: parent, session: session})
	var stale *applyflow.StaleError
	switch {
	case errors.As(err, &stale):
		out.Stale = stale.Reason
		return out, nil
	case errors.Is(err, errNoChange):
		out.Refusals = []string{message + ": nothing to change"}
		return out, nil
	case errors.As(err, &invalid):
		out.Diagnostics = invalid.Diagnostics
		return out, nil
	case err != nil:
		return nil, err
	case len(refusals) > 0:
		out.Refusals = refusals
		return out, nil
	}
	content := checked.New
	if branch == "" {
		branch = s.git.NewBranchName(c.action, c.promotion, s.now())
	}
	hash, err := s.git.Commit(gitstore.Commit{Branch: branch, Parent: parent, Files: map[string][]byte{checked.File: content},
		Author: operator(r), Message: message, When: s.now()})
	if errors.Is(err, gitstore.ErrStale) {
		out.Stale = fmt.Sprintf("The tip of branch %s moved while the change was being committed (another commit landed first).", branch)
		return out, nil
	}
	if errors.Is(err, gitstore.ErrCheckedOut) {
		out.Refusals = []string{err.Error()}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Branch, out.Commit, out.Message = branch, hash, message
	if s.opts.Push != "" {
		if err := s.git.Push(s.opts.Push, branch); err != nil {
			return nil, fmt.Errorf("committed %s on %s, but: %w", hash.String()[:12], branch, err)
		}
		out.Pushed = true
		out.PullURL = s.pullURL(branch)
	}
	s.opts.Log.Info("commit", "branch", branch, "commit", hash.String(), "author", operator(r).String(), "message", firstLine(message))
	return out, nil
}

// baseTip is the base branch's tip: the remote's, fetched now, with --push.
func (s *Server) baseTip() (plumbing.Hash, error) {
	if s.opts.Push == "" {
		return s.git.Tip(s.base)
	}
	if err := s.git.Fetch(s.opts.Push, s.base); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.git.RemoteTip(s.opts.Push, s.base)
}

func (s *Server) pullURL(branch string) string {
	if s.opts.Push == "" {
		return ""
	}
	u, err := s.git.RemoteURL(s.opts.Push)
	if err != nil {
		return ""
	}
	return gitstore.PullRequestURL(u, s.base, branch)
}

// answer turns an outcome into a response: 409 when stale (saying what
// moved, with a link that reloads the page the form came from), 422 with
// every refusal (and a link back), else a redirect to the branch's page,
// which says what was committed where.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, out *outcome, back backLink) {
	switch {
	case out.Stale != "":
		back.Reload = true
		s.render(w, r, http.StatusConflict, "problem", page{Title: "Changed meanwhile",
			Data: problem{Message: out.Stale + " Nothing was committed: reload to see the current state and try again.", Back: back}})
	case out.refused():
		details := append([]string(nil), out.Refusals...)
		for _, d := range out.Diagnostics {
			details = append(details, d.String())
		}
		s.render(w, r, http.StatusUnprocessableEntity, "problem", page{Title: "Refused",
			Data: problem{Message: "The change was refused: nothing was committed.", Details: details, Back: back}})
	default:
		http.Redirect(w, r, link("/changes/"+out.Branch, "committed", out.Commit.String(), "promotion", out.Promotion, "pushed", pushedParam(out.Pushed)), http.StatusSeeOther)
	}
}

func pushedParam(pushed bool) string {
	if pushed {
		return "1"
	}
	return ""
}

// backLink is where a refusal or a confirmation returns to: the page the
// form was on.
type backLink struct {
	URL, Label string
	// Reload labels the link "Reload" (a 409: the page shows the current
	// state) rather than "Back to".
	Reload bool
}

// destination is the one choice of where a form's change goes: a new
// branch from the base branch, or the console branch the page shows.
type destination struct {
	// Branch is the console branch the page shows, "" on the base branch.
	Branch string
	Base   string
	// NewBranch says that a new branch from the base is possible: the
	// promotion's file is the same there as on the page. Otherwise the
	// change can only go to Branch.
	NewBranch bool
}

// destination is where a form on branch editing file (seen with blob) may
// commit.
func (s *Server) destination(branch, file, blob string) destination {
	d := destination{Base: s.base, NewBranch: true}
	if !isConsoleBranch(branch) {
		return d
	}
	d.Branch = branch
	if tip, err := s.git.Tip(s.base); err == nil {
		onBase, err := s.git.BlobHash(tip, file)
		d.NewBranch = err == nil && onBase == blob && blob != ""
	}
	return d
}

func isConsoleBranch(name string) bool { return strings.HasPrefix(name, gitstore.BranchPrefix) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
