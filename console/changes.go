package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/console/gitstore"
	"github.com/promoctl/promoctl/promotions"
)

// commitsShown caps the commits listed for a branch.
const commitsShown = 50

type branchSummary struct {
	gitstore.Branch
	Subject, Author string
	Ahead           int
	PullURL         string
}

type changesData struct {
	Branches []branchSummary
}

func (s *Server) changesPage(w http.ResponseWriter, r *http.Request) {
	branches, err := s.git.Branches()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	baseTip, err := s.git.Tip(s.base)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	var d changesData
	for _, b := range branches {
		sum := branchSummary{Branch: b, PullURL: s.pullURL(b.Name)}
		if mb, err := s.git.MergeBase(b.Tip, baseTip); err == nil {
			commits, _ := s.git.Commits(b.Tip, mb, commitsShown)
			sum.Ahead = len(commits)
			if len(commits) > 0 {
				sum.Subject, sum.Author = firstLine(commits[0].Message), commits[0].Author.Name
			}
		}
		d.Branches = append(d.Branches, sum)
	}
	s.render(w, r, http.StatusOK, "changes", page{Title: "Changes", Section: "changes", Data: d})
}

type branchData struct {
	Name      string
	Tip       string
	MergeBase string
	Commits   []*object.Commit
	Committed string
	PullURL   string
	// Comment is the diff as the pull request comment shows it.
	Comment    template.HTML
	Valid      bool
	Errors     []promotions.Diagnostic
	Violations int
	// Warnings are those on what the branch adds (a grant starting in the
	// past, a new promotion whose window closed): valid, but a reviewer
	// should read them.
	Warnings    []promotions.JSONDiagnostic
	LastMessage string
	// After an action: the commit's message, the promotion it changed
	// (to link back), and whether the branch was pushed (to Remote, whose
	// URL RemoteURL is, for the command that opens a pull request when
	// PullURL is unknown).
	CommittedMessage string
	Back             backLink
	Pushed           bool
	Remote           string
	RemoteURL        string
	Base             string
}

type reviewKey struct{ tip, base plumbing.Hash }

type review struct {
	comment  template.HTML
	valid    bool
	errors   []promotions.Diagnostic
	warnings []promotions.JSONDiagnostic
	lock     int
}

func (s *Server) branchPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("branch")
	if !isConsoleBranch(name) {
		s.fail(w, r, http.StatusNotFound, "Only the console's branches (promoctl/…) are shown here.")
		return
	}
	tip, err := s.git.Tip(name)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "No branch "+name+".")
		return
	}
	baseTip, err := s.git.Tip(s.base)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	mb, err := s.git.MergeBase(tip, baseTip)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	d := branchData{Name: name, Tip: tip.String(), MergeBase: mb.String(), Committed: r.URL.Query().Get("committed"), PullURL: s.pullURL(name)}
	if d.Commits, err = s.git.Commits(tip, mb, commitsShown); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	d.Base = s.base
	if d.Committed != "" {
		for _, c := range d.Commits {
			if c.Hash.String() == d.Committed {
				d.CommittedMessage = firstLine(c.Message)
			}
		}
		if id := r.URL.Query().Get("promotion"); id != "" {
			label := id
			if v, err := s.views.at(tip); err == nil && v.model != nil {
				if p, ok := v.model.Promotions[id]; ok {
					label = p.Name
				}
			}
			d.Back = backLink{URL: link("/promotions/"+id, "branch", name), Label: label}
		}
		if r.URL.Query().Get("pushed") != "" && s.opts.Push != "" {
			d.Pushed, d.Remote = true, s.opts.Push
			d.RemoteURL, _ = s.git.RemoteURL(s.opts.Push)
		}
	}
	rv, err := s.review(tip, mb)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	d.Comment, d.Valid, d.Errors, d.Violations, d.Warnings = rv.comment, rv.valid, rv.errors, rv.lock, rv.warnings
	s.render(w, r, http.StatusOK, "branch", page{Title: name, Section: "changes", Branch: name, Commit: tip.String(), Data: d})
}

// review is the branch's diff against its merge-base with the base branch
// (so a branch that fell behind shows no false violations), rendered as
// the pull request comment, and its validation with the lock.
func (s *Server) review(tip, mb plumbing.Hash) (*review, error) {
	key := reviewKey{tip, mb}
	if rv, ok := s.reviews.Load(key); ok {
		return rv.(*review), nil
	}
	head, err := s.git.FS(tip)
	if err != nil {
		return nil, err
	}
	base, err := s.git.FS(mb)
	if err != nil {
		return nil, err
	}
	opts := compiler.Options{Limits: s.opts.Limits, Cache: s.views.cache, Now: s.now()}
	cs, err := compiler.Diff(head, base, opts, s.base+" ("+mb.String()[:12]+")", tip.String()[:12])
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	var md bytes.Buffer
	if err := report.ChangesMarkdown(&md, cs); err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.Table)).Convert(md.Bytes(), &html); err != nil {
		return nil, fmt.Errorf("render the comment: %w", err)
	}
	rv := &review{comment: template.HTML(html.String()), valid: cs.Valid, lock: len(cs.Violations), warnings: cs.Warnings} // #nosec G203 -- goldmark escapes raw HTML unless WithUnsafe
	if !cs.Valid {
		res, err := compiler.LoadWithBase(head, base, opts)
		if err != nil {
			return nil, err
		}
		rv.errors = res.Diagnostics.Errors()
	}
	s.reviews.Store(key, rv)
	return rv, nil
}
