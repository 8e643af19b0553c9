package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/promoctl/promoctl/compiler/history"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/console/gitstore"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/promotions"
)

//go:embed templates/layout.html templates/pages/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configure a console.
type Options struct {
	// Repo is the config repo directory, inside a git work tree.
	Repo string
	// BaseBranch is the branch pages are compiled from and new branches
	// start at; empty means the branch checked out at start.
	BaseBranch string
	// Author signs commits when no trusted identity header names the
	// operator.
	Author gitstore.Signature
	// Token, when set, must be presented once on the sign-in page; the
	// browser then holds a session cookie.
	Token string
	// IdentityHeader names the header a trusted proxy puts the operator's
	// identity in; it is believed only from TrustedProxies.
	IdentityHeader string
	TrustedProxies []netip.Prefix
	// Push names the remote the base branch is fetched from before each
	// write and the new branch is pushed to.
	Push   string
	Limits promotions.Limits
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Usage, when set, opens the usage store for one page, with the
	// snapshot the page was compiled from giving the buckets; the customer
	// page then shows each metered feature's usage. Pages only read it.
	Usage func(snap *snapshot.Snapshot) (meter.Client, func(), error)
}

// Server is a console over one config repo.
type Server struct {
	opts    Options
	git     *gitstore.Repo
	base    string
	pages   map[string]*template.Template
	session string // the cookie value that proves a sign-in
	views   *viewCache
	// writeMu serialises writes: each one plans against a branch tip and
	// moves that branch.
	writeMu sync.Mutex
	// reviews caches each branch's diff and validation by (tip,
	// merge-base): both take a full compile on a large repo.
	reviews sync.Map
}

// New opens the repo's git repository and prepares the pages. It does not
// compile the repo: the first page does.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Limits == (promotions.Limits{}) {
		opts.Limits = promotions.DefaultLimits
	}
	if opts.IdentityHeader != "" && len(opts.TrustedProxies) == 0 {
		return nil, errors.New("an identity header is only believed from trusted proxies: name them")
	}
	repo, err := gitstore.Open(opts.Repo)
	if err != nil {
		return nil, err
	}
	base := opts.BaseBranch
	if base == "" {
		if base, err = repo.CurrentBranch(); err != nil {
			return nil, err
		}
	}
	if _, err := repo.Tip(base); err != nil {
		return nil, fmt.Errorf("base branch: %w", err)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, git: repo, base: base, pages: pages}
	s.views = newViewCache(s)
	// The first customer page would otherwise read every file version the
	// history changed to find those about its customer; the index filled
	// here in the background makes it read only those.
	go func() {
		if err := history.Warm(context.Background(), opts.Repo, base); err != nil {
			opts.Log.Warn("index the history for customer pages", "err", err)
		}
	}()
	if opts.Token != "" {
		sum := sha256.Sum256([]byte("promoctl console session\x00" + opts.Token))
		s.session = fmt.Sprintf("%x", sum)
	}
	return s, nil
}

// BaseBranch is the branch the console reads and branches from.
func (s *Server) BaseBranch() string { return s.base }

// Handler serves the console. Every state-changing request passes Go's
// cross-origin protection; every answer carries a Content-Security-Policy
// that allows no inline script and nothing from another origin.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		// Browsers ask for /favicon.ico on every page; the icon is an SVG.
		icon, _ := assetFS.ReadFile("assets/favicon.svg")
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(icon)
	})
	mux.HandleFunc("GET /signin", s.signInPage)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("POST /signout", s.signOut)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/promotions", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /promotions", s.authed(s.promotionsPage))
	mux.HandleFunc("GET /promotions/new", s.authed(s.createPage))
	mux.HandleFunc("POST /promotions", s.authed(s.create))
	mux.HandleFunc("GET /promotions/{id}", s.authed(s.detailsPage))
	mux.HandleFunc("POST /promotions/{id}", s.authed(s.edit))
	mux.HandleFunc("GET /promotions/{id}/access", s.authed(s.accessPage))
	mux.HandleFunc("POST /promotions/{id}/{action}", s.authed(s.stateChange))
	mux.HandleFunc("GET /customers/{id}", s.authed(s.customerPage))
	mux.HandleFunc("GET /customers", s.authed(s.customerLookup))
	mux.HandleFunc("GET /changes", s.authed(s.changesPage))
	mux.HandleFunc("GET /changes/{branch...}", s.authed(s.branchPage))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "Refused: this request came from another site. Nothing was changed.")
	}))
	return securityHeaders(cop.Handler(mux))
}

// contentSecurityPolicy allows the console's own styles and script only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
