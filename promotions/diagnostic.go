package promotions

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Code identifies a class of problem (docs/rules.md).
type Code string

// The codes, errors and warnings. docs/rules.md lists every one (a test
// holds its table equal to these constants).
const (
	CodeYAMLSyntax            Code = "YAML_SYNTAX"
	CodeDuplicateKey          Code = "DUPLICATE_KEY"
	CodeUnknownKind           Code = "UNKNOWN_KIND"
	CodeSchema                Code = "SCHEMA"
	CodeDuplicateID           Code = "DUPLICATE_ID"
	CodeUnknownFeature        Code = "UNKNOWN_FEATURE"
	CodeFeatureTypeMismatch   Code = "FEATURE_TYPE_MISMATCH"
	CodeUnknownPlan           Code = "UNKNOWN_PLAN"
	CodeUnknownCustomer       Code = "UNKNOWN_CUSTOMER"
	CodeDuplicateGrant        Code = "DUPLICATE_GRANT"
	CodeWindowInverted        Code = "WINDOW_INVERTED"
	CodeGrantOutsideWindow    Code = "GRANT_OUTSIDE_WINDOW"
	CodeInvalidGrantTimes     Code = "INVALID_GRANT_TIMES"
	CodeIneligibleCustomer    Code = "INELIGIBLE_CUSTOMER"
	CodeNotApplied            Code = "NOT_APPLIED"
	CodeDeactivatedWithGrants Code = "DEACTIVATED_WITH_GRANTS"
	CodeLockedField           Code = "LOCKED_FIELD"
	CodeAppliedUnlocked       Code = "APPLIED_UNLOCKED"
	CodeAppliedDeleted        Code = "APPLIED_DELETED"
	CodeGrantRemoved          Code = "GRANT_REMOVED"
	CodeGrantHistoryChanged   Code = "GRANT_HISTORY_CHANGED"

	// Loader safety: a path the loader must not read, and a repo without
	// a Feature.
	CodeUnsafePath Code = "UNSAFE_PATH"
	CodeNoFeatures Code = "NO_FEATURES"

	// Warnings.
	CodeFileName Code = "FILE_NAME"
	CodeLimit    Code = "LIMIT"
	// With a base, on what the change adds: a grant period that starts
	// before the check's clock, and a new promotion whose window is over.
	CodeGrantBackdated Code = "GRANT_BACKDATED"
	CodeWindowClosed   Code = "WINDOW_CLOSED"
)

// Severity of a diagnostic. Warnings never change an exit code.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem found in the repo. File is relative to the repo
// root with forward slashes; Line and Column are 1-based, 0 when unknown.
type Diagnostic struct {
	Severity Severity
	Code     Code
	File     string
	Line     int
	Column   int
	Path     Path
	Message  string
	// Limit names the limit a file or repo went over, when that is what
	// the diagnostic reports: a command can then say how to raise it.
	Limit Limit
}

// Reaching marks d as reporting that limit l was passed.
func (d Diagnostic) Reaching(l Limit) Diagnostic {
	d.Limit = l
	return d
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Code, d.Message)
}

// Diagnostics is a list of problems.
type Diagnostics []Diagnostic

// Errors returns only the error-severity diagnostics.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(SeverityError) }

// Warnings returns only the warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(SeverityWarning) }

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, code.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Code < b.Code
	})
}

// ErrorAt makes a diagnostic of error severity at a file and field path;
// its line and column are filled in from the document later.
func ErrorAt(code Code, file string, path Path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: SeverityError, Code: code, File: file, Path: path, Message: fmt.Sprintf(format, args...)}
}

// WarningAt makes a diagnostic of warning severity, like ErrorAt.
func WarningAt(code Code, file string, path Path, format string, args ...any) Diagnostic {
	d := ErrorAt(code, file, path, format, args...)
	d.Severity = SeverityWarning
	return d
}

// Path is a field path inside a document: keys and list indexes.
type Path []PathElem

// PathElem is a map key, or a list index when IsIndex.
type PathElem struct {
	Key     string
	Index   int
	IsIndex bool
}

// P builds a path from keys (string) and indexes (int).
func P(elems ...any) Path {
	p := make(Path, 0, len(elems))
	for _, e := range elems {
		switch v := e.(type) {
		case string:
			p = append(p, PathElem{Key: v})
		case int:
			p = append(p, PathElem{Index: v, IsIndex: true})
		}
	}
	return p
}

// Key returns p extended by a key; p itself is never modified.
func (p Path) Key(k string) Path { return append(p[:len(p):len(p)], PathElem{Key: k}) }

// Index returns p extended by a list index; p itself is never modified.
func (p Path) Index(i int) Path { return append(p[:len(p):len(p)], PathElem{Index: i, IsIndex: true}) }

// String renders the path as grants.customers[1].granted_at.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.IsIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.Key)
	}
	return b.String()
}

// JSONDiagnostic is the wire form of a diagnostic, in every JSON output
// (validate, diff, the sidecar's status).
type JSONDiagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Code    string `json:"code"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

// JSON returns the wire form of d.
func (d Diagnostic) JSON() JSONDiagnostic {
	return JSONDiagnostic{File: d.File, Line: d.Line, Column: d.Column, Code: string(d.Code), Path: d.Path.String(), Message: d.Message}
}

// JSON returns the wire form of every diagnostic, never nil.
func (ds Diagnostics) JSON() []JSONDiagnostic {
	out := make([]JSONDiagnostic, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.JSON())
	}
	return out
}

// At returns d placed at line and column.
func (d Diagnostic) At(line, col int) Diagnostic {
	d.Line, d.Column = line, col
	return d
}
