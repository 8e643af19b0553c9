package console

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"unicode"

	"github.com/promoctl/promoctl/console/gitstore"
)

// sessionCookie holds the proof of a token sign-in.
const sessionCookie = "promoctl_console"

type operatorKey struct{}

// operator is who signs a request's commits.
func operator(r *http.Request) gitstore.Signature {
	sig, _ := r.Context().Value(operatorKey{}).(gitstore.Signature)
	return sig
}

// authed lets a request through when it is signed in (or needs no sign-in)
// and records who the operator is: the trusted proxy's identity header,
// else the console's --author.
func (s *Server) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who := s.opts.Author
		switch {
		case s.opts.IdentityHeader != "" && s.fromTrustedProxy(r):
			if len(r.Header.Values(s.opts.IdentityHeader)) > 1 {
				// Which of two identities authors the commit would be a
				// guess (a proxy that appends instead of replacing).
				s.fail(w, r, http.StatusBadRequest, "The proxy sent "+s.opts.IdentityHeader+" more than once. Nothing was changed.")
				return
			}
			id := strings.TrimSpace(r.Header.Get(s.opts.IdentityHeader))
			if id == "" {
				s.fail(w, r, http.StatusUnauthorized, "The proxy sent no identity ("+s.opts.IdentityHeader+" is empty).")
				return
			}
			who = identity(id)
		case s.opts.Token != "":
			c, err := r.Cookie(sessionCookie)
			if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session)) != 1 {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				s.fail(w, r, http.StatusUnauthorized, "Sign in first. Nothing was changed.")
				return
			}
		case s.opts.IdentityHeader != "":
			s.fail(w, r, http.StatusForbidden, "This console only answers through its proxy.")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, who)))
	}
}

// identity reads an identity header's value: "Name <email>", an email, or
// a user name.
func identity(v string) gitstore.Signature {
	if sig, err := gitstore.ParseSignature(v); err == nil {
		return sig
	}
	v = strings.Map(func(r rune) rune {
		if r == '<' || r == '>' || r < ' ' {
			return -1
		}
		return r
	}, v)
	if name, _, ok := strings.Cut(v, "@"); ok {
		return gitstore.Signature{Name: name, Email: v}
	}
	return gitstore.Signature{Name: v, Email: v}
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

type signInData struct {
	Next, Error string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token == "" {
		http.Redirect(w, r, "/promotions", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: signInData{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token == "" {
		http.Redirect(w, r, "/promotions", http.StatusSeeOther)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.opts.Token)) != 1 {
		s.render(w, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Data: signInData{Next: next, Error: "That token is not the console's."}})
		return
	}
	// #nosec G124 -- Secure whenever the request came over TLS; the console also serves plain HTTP on loopback, where a Secure cookie would never come back
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.session, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	// #nosec G124 -- an empty cookie that expires the session, sent over whatever the sign-in used
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site: it must parse as an
// absolute path with no scheme and no host, hold no control character,
// space or backslash (browsers drop tabs and newlines and read a backslash
// as a slash, so "/\t/evil.example" would lead elsewhere), and resolve
// against this site to this site.
func safeNext(next string) string {
	const fallback = "/promotions"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return fallback
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || r == '\\' || !unicode.IsPrint(r) {
			return fallback
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return fallback
	}
	self := &url.URL{Scheme: "http", Host: "console.invalid"}
	if to := self.ResolveReference(u); to.Host != self.Host || to.Scheme != self.Scheme {
		return fallback
	}
	return next
}
