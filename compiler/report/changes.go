package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/internal/safetext"
)

// ChangesJSON prints a change set as indented JSON.
func ChangesJSON(w io.Writer, p *compiler.ChangeSet) error {
	enc := newJSONEncoder(w)
	return enc.Encode(p)
}

// ChangesText prints a change set for a terminal.
func ChangesText(w io.Writer, p *compiler.ChangeSet) error {
	return writeChanges(w, textStyle, fmt.Sprintf("promoctl plan: %s → %s\n", p.Base, p.Head), p)
}

// ChangesMarkdown prints a change set as a pull request comment.
func ChangesMarkdown(w io.Writer, p *compiler.ChangeSet) error {
	return writeChanges(w, markdownStyle, fmt.Sprintf("### promoctl plan: `%s` → `%s`\n\n", p.Base, p.Head), p)
}

func writeChanges(w io.Writer, s style, title string, p *compiler.ChangeSet) error {
	var b strings.Builder
	b.WriteString(title)
	writeBody(&b, s, p)
	_, err := io.WriteString(w, b.String())
	return err
}

type style struct {
	markdown bool
}

var (
	textStyle     = style{}
	markdownStyle = style{markdown: true}
)

func (s style) code(v string) string {
	if s.markdown {
		return "`" + strings.ReplaceAll(v, "`", "'") + "`"
	}
	return v
}

// path prints a file name: quoted when it holds what a terminal would
// act on, and in markdown a code span that renders it literally (a file
// may be named with newlines, emphasis or links).
func (s style) path(p string, inTable bool) string {
	if s.markdown {
		return safetext.MarkdownCode(p, inTable)
	}
	return safetext.Path(p)
}

func (s style) bold(v string) string {
	if s.markdown {
		return "**" + v + "**"
	}
	return v
}

func (s style) heading(b *strings.Builder, title string) {
	if s.markdown {
		fmt.Fprintf(b, "\n#### %s\n\n", title)
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
}

func writeBody(b *strings.Builder, s style, p *compiler.ChangeSet) {
	switch {
	case len(p.Violations) > 0:
		fmt.Fprintf(b, "%s\n", s.bold(fmt.Sprintf("%d is_applied lock violation(s): this change must not be merged as it is.", len(p.Violations))))
	case !p.Valid:
		fmt.Fprintf(b, "%s\n", s.bold(fmt.Sprintf("The head has %d validation error(s): run promoctl validate.", p.Errors)))
	default:
		b.WriteString("The head is valid and keeps the is_applied lock.\n")
	}
	if len(p.Violations) > 0 {
		s.heading(b, "Lock violations")
		if s.markdown {
			b.WriteString("| where | code | message |\n|---|---|---|\n")
		}
		for _, v := range p.Violations {
			where := fmt.Sprintf("%s:%d:%d", v.File, v.Line, v.Column)
			if s.markdown {
				fmt.Fprintf(b, "| %s | %s | %s |\n", s.path(where, true), v.Code, escapeCell(safetext.Text(v.Message)))
			} else {
				fmt.Fprintf(b, "  %s: %s: %s\n", s.path(where, false), v.Code, safetext.Text(v.Message))
			}
		}
	}
	if len(p.Warnings) > 0 {
		s.heading(b, "Warnings")
		if s.markdown {
			b.WriteString("| where | code | message |\n|---|---|---|\n")
		}
		for _, v := range p.Warnings {
			where := fmt.Sprintf("%s:%d:%d", v.File, v.Line, v.Column)
			if s.markdown {
				fmt.Fprintf(b, "| %s | %s | %s |\n", s.code(where), v.Code, escapeCell(v.Message))
			} else {
				fmt.Fprintf(b, "  %s: %s: %s\n", where, v.Code, v.Message)
			}
		}
	}
	if p.Empty() {
		b.WriteString("\nNo changes to promotions, grants, customers, plans or features.\n")
	}
	if len(p.Promotions) > 0 {
		s.heading(b, "Promotions")
		for _, ch := range p.Promotions {
			writePromotion(b, s, ch)
		}
	}
	for _, sec := range []struct {
		title string
		o     compiler.ObjectChanges
	}{{"Customers", p.Customers}, {"Plans", p.Plans}, {"Features", p.Features}} {
		if sec.o.Empty() {
			continue
		}
		s.heading(b, sec.title)
		for _, g := range []struct {
			label string
			ids   compiler.IDSample
		}{{"added", sec.o.Added}, {"changed", sec.o.Changed}, {"removed", sec.o.Removed}} {
			if g.ids.Count > 0 {
				fmt.Fprintf(b, "%s%s %s\n", bullet(s, 0), g.label, g.ids)
			}
		}
	}
	if p.Incomplete {
		b.WriteString("\nCustomers, plans and features were not compared: a tree has files that do not load.\n")
	}
}

func bullet(s style, depth int) string {
	if s.markdown {
		return strings.Repeat("  ", depth) + "- "
	}
	return strings.Repeat("  ", depth+1) + "- "
}

func writePromotion(b *strings.Builder, s style, ch compiler.PromotionChange) {
	what := ch.Change
	if ch.Status != "" {
		what += ", " + string(ch.Status)
	}
	if ch.MovedFrom != "" {
		what += ", moved from " + s.path(ch.MovedFrom, false)
	}
	applied := ""
	if ch.Applied {
		applied = " (applied)"
	}
	fmt.Fprintf(b, "%s%s%s %s: %s\n", bullet(s, 0), s.bold(ch.ID), applied, s.path(ch.File, false), what)
	for _, f := range ch.Fields {
		fmt.Fprintf(b, "%s%s: %s → %s\n", bullet(s, 1), s.code(f.Field), s.code(f.Old), s.code(f.New))
	}
	for _, t := range ch.Terms {
		fmt.Fprintf(b, "%s%s: %s\n", bullet(s, 1), s.code(t.Field), s.code(t.Value))
	}
	g := ch.Grants
	if g.Empty() {
		return
	}
	var parts []string
	for _, part := range []struct {
		label string
		ids   compiler.IDSample
	}{{"granted", g.Granted}, {"revoked", g.Revoked}, {"re-granted", g.Regranted}, {"renewed", g.Renewed}, {"modified", g.Modified}, {"removed", g.Removed}} {
		if part.ids.Count > 0 {
			parts = append(parts, part.label+" "+part.ids.String())
		}
	}
	if g.All != "" {
		parts = append(parts, "grants.all "+string(g.All))
	}
	fmt.Fprintf(b, "%sgrants: %s\n", bullet(s, 1), strings.Join(parts, "; "))
}

func escapeCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// newJSONEncoder indents and leaves <, > and & as they are: reports are
// read by people and CI tools, never embedded in HTML, and a message such
// as "Lindqvist & Daughters" should not read "\u0026".
func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc
}
