package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// page is what every template gets.
type page struct {
	Title string
	// Section is the navigation entry to highlight.
	Section string
	// Branch is the branch the page was compiled from, Commit its tip.
	Branch, Base, Commit string
	Operator             string
	SignOut              bool
	Data                 any
	Now                  time.Time
}

func (p page) OnBase() bool { return p.Branch == "" || p.Branch == p.Base }

// The templates: the layout and every partial (badges, forms, tables, a
// pager: each a {{define}} block) are parsed into every page; a page
// (templates/pages/NAME.html) defines "content" and is rendered by NAME.
const (
	layoutFile   = "templates/layout.html"
	partialFiles = "templates/partials/*.html"
	pageFiles    = "templates/pages/*.html"
)

func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(funcs).Funcs(typedFuncs).ParseFS(templateFS, layoutFile, partialFiles)
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, pageFiles)
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

// render writes a page; the body is rendered to memory first so that a
// template error becomes a 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	p.Base = s.base
	if p.Branch == "" {
		p.Branch = s.base
	}
	p.Operator = operator(r).String()
	p.SignOut = s.opts.Token != ""
	p.Now = s.now()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.opts.Log.Error("render", "page", name, "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// problem is the data of the error page.
type problem struct {
	Message string
	Details []string
	// Back returns to the page the request came from.
	Back backLink
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, message string, details ...string) {
	s.render(w, r, status, "problem", page{Title: http.StatusText(status), Data: problem{Message: message, Details: details}})
}

// words rewrites a message's machine terms for operators: instants as
// dates, a window as "from … until …", grants.all as the grant to everyone
// eligible.
func words(msg string) string {
	msg = instant.ReplaceAllStringFunc(msg, func(s string) string {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return s
		}
		return formatDate(t)
	})
	msg = windowNote.ReplaceAllString(msg, "(from $1 until $2)")
	return strings.ReplaceAll(msg, "grants.all", "grant to everyone eligible")
}

// instant matches the RFC 3339 instants of apply-flow messages; window
// their [start, end) notation.
var (
	instant    = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	windowNote = regexp.MustCompile(`\[([^,\]]+), ([^)\]]+)\)`)
)

// sentence rewrites a message of the apply flow for operators: instants
// as dates (and times when not midnight), a window as "from … until …",
// a capital first letter and a final stop.
func sentence(msg string) string {
	msg = words(msg)
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

var funcs = template.FuncMap{
	"date":     formatDate,
	"datetime": formatDateTime,
	"rel":      relative,
	"window":   windowText,
	"duration": durationText,
	"allowance": func(a promotions.Allowance) string {
		if a.Unlimited {
			return "unlimited"
		}
		return thousands(a.Value)
	},
	"num":   func(n int) string { return thousands(int64(n)) },
	"words": words,
	// holding says whether a customer row is under the Granted filter.
	"holding": holding,
	"short":   func(s string) string { return s[:min(len(s), 10)] },
	"eligibility": func(e *promotions.Eligibility) string {
		return e.String()
	},
	"link":      func(base string, kv ...string) string { return link(base, kv...) },
	"add":       func(a, b int) int { return a + b },
	"tableArgs": func(p page, d accessData, from string) tableArgs { return tableArgs{Page: p, Access: d, From: from} },
	"list":      func(items ...string) []string { return items },
	// branchParam is the branch= value that keeps a link on the page's
	// branch ("" on the base branch).
	"branchParam": func(p page) string {
		if p.OnBase() {
			return ""
		}
		return p.Branch
	},
}

// timeValue accepts time.Time and *time.Time (nil: no time).
func timeValue(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, true
	}
	return time.Time{}, false
}

func formatDate(v any) string {
	t, ok := timeValue(v)
	if !ok {
		return ""
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04")
}

func formatDateTime(v any) string {
	t, ok := timeValue(v)
	if !ok {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// relative is a hint such as "in 3 days" or "2 hours ago".
func relative(v any, now time.Time) string {
	t, ok := timeValue(v)
	if !ok {
		return ""
	}
	d := t.Sub(now)
	future := d > 0
	if !future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 60*24*time.Hour:
		n, unit = int(math.Round(d.Hours()/24)), "day"
	case d < 730*24*time.Hour:
		n, unit = int(math.Round(d.Hours()/24/30.44)), "month"
	default:
		n, unit = int(math.Round(d.Hours()/24/365.25)), "year"
	}
	if n != 1 {
		unit += "s"
	}
	if future {
		return fmt.Sprintf("in %d %s", n, unit)
	}
	return fmt.Sprintf("%d %s ago", n, unit)
}

func windowText(w promotions.Window) string {
	start, end := "immediately", "forever"
	if w.Start != nil {
		start = formatDate(*w.Start)
	}
	if w.End != nil {
		end = formatDate(*w.End)
	}
	return start + " → " + end
}

func durationText(d *promotions.Duration) string {
	if d == nil {
		return "forever"
	}
	unit := strings.TrimSuffix(string(d.Unit), "s")
	if d.Value != 1 {
		unit += "s"
	}
	return strconv.Itoa(d.Value) + " " + unit
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// link builds base?k=v&… leaving out empty values.
func link(base string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// tableArgs hands the customer table its page, rows and the screen it is on.
type tableArgs struct {
	Page   page
	Access accessData
	From   string
}
