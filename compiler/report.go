package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/promoctl/promoctl/promotions"
)

// Report formats diagnostics for people and for CI systems.
type Report struct {
	Diagnostics promotions.Diagnostics
	// Source reads a file for the source frame under a text diagnostic;
	// nil prints no frames.
	Source fs.FS
}

// WriteText prints one line per diagnostic, path:line:col: CODE: message,
// each followed by a source frame with a caret when the source is known.
func (r Report) WriteText(w io.Writer) error {
	cache := map[string][][]byte{}
	var b strings.Builder
	for _, d := range r.Diagnostics {
		code := string(d.Code)
		if d.Severity == promotions.SeverityWarning {
			code = "warning: " + code
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s\n", d.File, d.Line, d.Column, code, d.Message)
		if frame := r.frame(cache, d); frame != "" {
			b.WriteString(frame)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Report) frame(cache map[string][][]byte, d promotions.Diagnostic) string {
	if r.Source == nil || d.Line <= 0 {
		return ""
	}
	lines, ok := cache[d.File]
	if !ok {
		src, err := fs.ReadFile(r.Source, d.File)
		if err == nil {
			lines = bytes.Split(src, []byte("\n"))
		}
		cache[d.File] = lines
	}
	if d.Line > len(lines) {
		return ""
	}
	line := strings.TrimRight(string(lines[d.Line-1]), "\r")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	gutter := fmt.Sprintf("%5d | ", d.Line)
	col := d.Column
	if col < 1 {
		col = 1
	}
	caret := strings.Repeat(" ", len(gutter)-2) + "| " + strings.Repeat(" ", min(col-1, len(line))) + "^"
	return gutter + line + "\n" + caret + "\n"
}

// JSONDiagnostic is the wire form of a diagnostic.
type JSONDiagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Code    string `json:"code"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

// JSONReport is the output of validate --format json.
type JSONReport struct {
	Valid    bool             `json:"valid"`
	Errors   []JSONDiagnostic `json:"errors"`
	Warnings []JSONDiagnostic `json:"warnings"`
}

// JSON converts the report to its wire form.
func (r Report) JSON() JSONReport {
	out := JSONReport{Errors: []JSONDiagnostic{}, Warnings: []JSONDiagnostic{}}
	for _, d := range r.Diagnostics {
		jd := JSONDiagnostic{File: d.File, Line: d.Line, Column: d.Column, Code: string(d.Code), Path: d.Path.String(), Message: d.Message}
		if d.Severity == promotions.SeverityWarning {
			out.Warnings = append(out.Warnings, jd)
		} else {
			out.Errors = append(out.Errors, jd)
		}
	}
	out.Valid = len(out.Errors) == 0
	return out
}

// WriteJSON prints {"valid":…,"errors":[…],"warnings":[…]}.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.JSON())
}

// WriteGitHub prints GitHub Actions workflow commands, which show up as
// annotations on the pull request's changed lines.
func (r Report) WriteGitHub(w io.Writer) error {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		level := "error"
		if d.Severity == promotions.SeverityWarning {
			level = "warning"
		}
		fmt.Fprintf(&b, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", level,
			escapeProperty(d.File), d.Line, d.Column, escapeProperty(string(d.Code)), escapeData(d.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeData and escapeProperty follow the escaping rules of GitHub's
// workflow commands (toolkit/core command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
