package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean reports whether s holds only printable characters (spaces
// included) and valid UTF-8.
func clean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// Text returns s with each character that is not printable (control
// characters, newlines, invalid UTF-8) written as a Go escape (\x1b, \n).
func Text(s string) string {
	if clean(s) {
		return s
	}
	q := strconv.Quote(s)
	// strconv.Quote also escapes the quote and the backslash; undo that
	// for them, so that only what is not printable reads as an escape.
	q = q[1 : len(q)-1]
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(q)
}

// Path returns a path as it can be printed on a terminal or in a log:
// unchanged when it is clean, else Go-quoted ("promotions/\x1b[31m.yaml"),
// so that an escape sequence or a newline in a file name shows as such.
func Path(p string) string {
	if clean(p) {
		return p
	}
	return strconv.Quote(p)
}

// MarkdownCode returns s as a markdown code span, which renders its text
// literally: no emphasis, no link, no HTML. What is not printable is
// quoted first (a newline would end the span), and the span's fence is
// longer than any run of backticks in s. inTable escapes the pipe, which
// ends a table cell even inside a code span.
func MarkdownCode(s string, inTable bool) string {
	s = Path(s)
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
