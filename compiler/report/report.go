package report

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/promoctl/promoctl/internal/safetext"
	"github.com/promoctl/promoctl/promotions"
)

// Report formats diagnostics for people and for CI systems.
type Report struct {
	Diagnostics promotions.Diagnostics
	// Source reads a file for the source frame under a text diagnostic;
	// nil prints no frames. A repo on disk is read through compiler.OpenDir,
	// which never blocks on opening a file.
	Source fs.FS
}

// maxSourceBytes bounds what a source frame reads of a file.
const maxSourceBytes = 64 << 20

// readSource reads a regular file for a frame, at most maxSourceBytes of
// it: a frame is printed only from what the loader itself would read.
func readSource(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	return io.ReadAll(io.LimitReader(f, maxSourceBytes))
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
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s\n", safetext.Path(d.File), d.Line, d.Column, code, safetext.Text(d.Message))
		if frame := r.frame(cache, d); frame != "" {
			b.WriteString(frame)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Report) frame(cache map[string][][]byte, d promotions.Diagnostic) string {
	if r.Source == nil || d.Line <= 0 || d.Code == promotions.CodeUnsafePath || d.Code == promotions.CodeNoFeatures {
		// An unsafe path is never read, so that nothing of what it
		// leads to ends up in a CI log; the lack of a Feature is nowhere
		// in particular.
		return ""
	}
	lines, ok := cache[d.File]
	if !ok {
		src, err := readSource(r.Source, d.File)
		if err == nil {
			lines = bytes.Split(src, []byte("\n"))
		}
		cache[d.File] = lines
	}
	if d.Line > len(lines) {
		return ""
	}
	line := printable(strings.TrimRight(string(lines[d.Line-1]), "\r"))
	if len(line) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut] + "…"
	}
	gutter := fmt.Sprintf("%5d | ", d.Line)
	col := d.Column
	if col < 1 {
		col = 1
	}
	caret := strings.Repeat(" ", len(gutter)-2) + "| " + strings.Repeat(" ", min(col-1, len(line))) + "^"
	return gutter + line + "\n" + caret + "\n"
}

// printable replaces what a hostile file could use to garble a terminal or
// a CI log — control characters (escape sequences), invalid UTF-8 — with
// '?', one per byte, so the caret below still lines up.
func printable(line string) string {
	clean := true
	for _, r := range line {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t') {
			clean = false
			break
		}
	}
	if clean {
		return line
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if (r == utf8.RuneError && size <= 1) || (unicode.IsControl(r) && r != '\t') {
			b.WriteString(strings.Repeat("?", size))
		} else {
			b.WriteString(line[i : i+size])
		}
		i += size
	}
	return b.String()
}

// JSONReport is the output of validate --format json.
type JSONReport struct {
	Valid    bool                        `json:"valid"`
	Errors   []promotions.JSONDiagnostic `json:"errors"`
	Warnings []promotions.JSONDiagnostic `json:"warnings"`
}

// JSON converts the report to its wire form.
func (r Report) JSON() JSONReport {
	out := JSONReport{Errors: r.Diagnostics.Errors().JSON(), Warnings: r.Diagnostics.Warnings().JSON()}
	out.Valid = len(out.Errors) == 0
	return out
}

// WriteJSON prints {"valid":…,"errors":[…],"warnings":[…]}.
func (r Report) WriteJSON(w io.Writer) error {
	enc := newJSONEncoder(w)
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

// SARIFOptions tune the SARIF output.
type SARIFOptions struct {
	// URIPrefix is prepended to every file, for a config repo that is a
	// sub-directory of the git repository code scanning looks at
	// ("config/"). Empty for the root.
	URIPrefix string
	// Version is promoctl's version, when known.
	Version string
}

// ruleDescriptions explain each code in code-scanning UIs.
var ruleDescriptions = map[promotions.Code]string{
	promotions.CodeYAMLSyntax:            "The file is not valid YAML, or breaks a size or nesting limit.",
	promotions.CodeDuplicateKey:          "A mapping defines the same key twice.",
	promotions.CodeUnknownKind:           "The document has no kind, or one promoctl does not know.",
	promotions.CodeSchema:                "The document does not match the CUE schema of its kind.",
	promotions.CodeDuplicateID:           "An id or key is defined more than once.",
	promotions.CodeUnknownFeature:        "A reference names a feature that is not defined.",
	promotions.CodeFeatureTypeMismatch:   "A value does not fit the type of its feature.",
	promotions.CodeUnknownPlan:           "A reference names a plan that is not defined.",
	promotions.CodeUnknownCustomer:       "A grant names a customer missing from the customer directory.",
	promotions.CodeDuplicateGrant:        "A customer appears more than once in one promotion's grants.",
	promotions.CodeWindowInverted:        "A promotion's window ends before it starts.",
	promotions.CodeGrantOutsideWindow:    "A grant was made outside the promotion's window.",
	promotions.CodeInvalidGrantTimes:     "A grant is revoked before it was granted.",
	promotions.CodeIneligibleCustomer:    "A granted customer is not eligible for the promotion.",
	promotions.CodeNotApplied:            "A promotion with grants must have is_applied: true.",
	promotions.CodeDeactivatedWithGrants: "A deactivated promotion still grants customers.",
	promotions.CodeLockedField:           "A strategic field of an applied promotion changed (the is_applied lock).",
	promotions.CodeAppliedUnlocked:       "An applied promotion went back to is_applied: false.",
	promotions.CodeAppliedDeleted:        "An applied promotion was deleted or its id renamed; deactivate it instead.",
	promotions.CodeGrantRemoved:          "A customer entry of the base was removed; revoke it instead.",
	promotions.CodeGrantHistoryChanged:   "A period of the base's grant history was changed or removed; periods are only ever added.",
	promotions.CodeUnsafePath:            "A path the loader does not read: a link out of the repo, a pipe, socket or device.",
	promotions.CodeNoFeatures:            "The repo holds config files but no Feature: there would be nothing to serve.",
	promotions.CodeFileName:              "A promotion's file is not named after its id.",
	promotions.CodeLimit:                 "A limit was reached.",
	promotions.CodeGrantBackdated:        "A grant period the change adds starts more than an hour before the check: answers already given would change when it merges.",
	promotions.CodeWindowClosed:          "A promotion the change adds has a window that is already over: nobody can be granted it.",
}

// warningCodes are the codes that are only ever warnings.
var warningCodes = map[promotions.Code]bool{
	promotions.CodeFileName: true, promotions.CodeLimit: true, promotions.CodeGrantBackdated: true, promotions.CodeWindowClosed: true,
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI       string `json:"uri"`
			URIBaseID string `json:"uriBaseId"`
		} `json:"artifactLocation"`
		Region *sarifRegion `json:"region,omitempty"`
	} `json:"physicalLocation"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// WriteSARIF prints a SARIF 2.1.0 log, which GitHub code scanning and
// other code-scanning UIs show next to the changed lines.
func (r Report) WriteSARIF(w io.Writer, opts SARIFOptions) error {
	run := sarifRun{Results: []sarifResult{}}
	run.Tool.Driver = sarifDriver{Name: "promoctl", Version: opts.Version, InformationURI: "https://github.com/promoctl/promoctl", Rules: []sarifRule{}}
	ruleIndex := map[promotions.Code]int{}
	var codes []string
	for _, d := range r.Diagnostics {
		if _, ok := ruleIndex[d.Code]; !ok {
			ruleIndex[d.Code] = 0
			codes = append(codes, string(d.Code))
		}
	}
	sort.Strings(codes)
	for i, c := range codes {
		code := promotions.Code(c)
		ruleIndex[code] = i
		rule := sarifRule{ID: c, ShortDescription: sarifMessage{Text: ruleDescriptions[code]}}
		if rule.ShortDescription.Text == "" {
			rule.ShortDescription.Text = c
		}
		rule.DefaultConfiguration.Level = "error"
		if warningCodes[code] {
			rule.DefaultConfiguration.Level = "warning"
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
	}
	for _, d := range r.Diagnostics {
		res := sarifResult{RuleID: string(d.Code), RuleIndex: ruleIndex[d.Code], Level: "error", Message: sarifMessage{Text: d.Message}}
		if d.Severity == promotions.SeverityWarning {
			res.Level = "warning"
		}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = opts.URIPrefix + d.File
		loc.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		if d.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Line, StartColumn: d.Column}
		}
		res.Locations = []sarifLocation{loc}
		run.Results = append(run.Results, res)
	}
	enc := newJSONEncoder(w)
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}
