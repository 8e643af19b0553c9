package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions/yamldoc"
)

func TestUnifiedDiffFormat(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	edits := []yamldoc.Edit{
		{Start: 2, End: 3, Text: "B"},              // line 2 changed
		{Start: 20, End: 20, Text: "new\nlines\n"}, // inserted at the end
	}
	want := "--- a/f\n+++ b/f\n" +
		"@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n" +
		"@@ -8,3 +8,5 @@\n h\n i\n j\n+new\n+lines\n"
	assert.Equal(t, want, unifiedDiff("a/f", "b/f", []byte(old), edits))
}

// Every diff, applied to the old text, gives the new text.
func TestUnifiedDiffRoundTrip(t *testing.T) {
	old := "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\nl13\nl14\nl15\nl16\n"
	off := func(line int) int { return strings.Index(old, "l"+strconv.Itoa(line)+"\n") }
	tests := []struct {
		name  string
		old   string
		edits []yamldoc.Edit
	}{
		{"mid-line replacement", old, []yamldoc.Edit{{Start: off(5) + 1, End: off(5) + 2, Text: "X"}}},
		{"remove lines", old, []yamldoc.Edit{{Start: off(3), End: off(5)}}},
		{"insert at the start", old, []yamldoc.Edit{{Start: 0, End: 0, Text: "first\n"}}},
		{"insert at a line start next to a change", old, []yamldoc.Edit{
			{Start: off(8), End: off(8), Text: "ins\n"}, {Start: off(8), End: off(8) + 2, Text: "L8"}}},
		{"scattered edits in separate hunks", old, []yamldoc.Edit{
			{Start: off(2), End: off(2) + 2, Text: "two"}, {Start: off(15), End: off(16), Text: ""}}},
		{"no final newline", "x\ny", []yamldoc.Edit{{Start: 3, End: 3, Text: "\n"}, {Start: 3, End: 3, Text: "z\n"}}},
		{"new file", "", []yamldoc.Edit{{Text: "a\nb\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := yamldoc.ApplyEdits([]byte(tt.old), tt.edits)
			require.NoError(t, err)
			d := unifiedDiff("a/f", "b/f", []byte(tt.old), tt.edits)
			got, err := applyUnified(tt.old, d)
			require.NoError(t, err, d)
			assert.Equal(t, string(want), got, d)
		})
	}
}

// applyUnified applies a unified diff the way patch does, checking every
// context and removed line against old.
func applyUnified(old, diff string) (string, error) {
	oldLines := strings.SplitAfter(old, "\n")
	if oldLines[len(oldLines)-1] == "" {
		oldLines = oldLines[:len(oldLines)-1]
	}
	var out []string
	pos := 0
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")[2:]
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "@@") {
			oldRange := strings.TrimPrefix(strings.Fields(l)[1], "-") // a or a,count
			first, count, _ := strings.Cut(oldRange, ",")
			a, err := strconv.Atoi(first)
			if err != nil {
				return "", fmt.Errorf("bad hunk header %q", l)
			}
			start := a - 1
			if count == "0" {
				start = a // an empty side names the line before it
			}
			for pos < start {
				out = append(out, oldLines[pos])
				pos++
			}
			continue
		}
		noNL := i+1 < len(lines) && lines[i+1] == `\ No newline at end of file`
		text := l[1:]
		if !noNL {
			text += "\n"
		}
		switch l[0] {
		case ' ', '-':
			if pos >= len(oldLines) || oldLines[pos] != text {
				return "", fmt.Errorf("line %d: want %q, have %q", pos+1, text, oldLines[min(pos, len(oldLines)-1)])
			}
			if l[0] == ' ' {
				out = append(out, text)
			}
			pos++
		case '+':
			out = append(out, text)
		}
		if noNL {
			i++
		}
	}
	out = append(out, oldLines[pos:]...)
	return strings.Join(out, ""), nil
}
