package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// diffRegion is a run of old lines [from, to) that edits replace by text.
type diffRegion struct {
	from, to int
	edits    []yamldoc.Edit
	text     string
}

// unifiedDiff renders the change that edits (offsets into old) make as a
// unified diff. It works from the edits rather than comparing two texts,
// so its cost grows with the file plus the edits, never with their
// product: a dry run of a 100k-customer grant stays instant.
func unifiedDiff(oldName, newName string, old []byte, edits []yamldoc.Edit) string {
	if len(edits) == 0 {
		return ""
	}
	edits = append([]yamldoc.Edit(nil), edits...)
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].Start < edits[j].Start })

	starts := []int{0} // offset of each line start, and of the empty line after a final newline
	for i, c := range old {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	nOld := len(starts)
	if len(old) == 0 || old[len(old)-1] == '\n' {
		nOld--
	}
	lineOf := func(off int) int { return sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1 }
	lineEnd := func(l int) int { // offset after line l-1, i.e. where line l starts
		if l < len(starts) {
			return starts[l]
		}
		return len(old)
	}

	// Each edit widens to the lines it touches (none for an insertion at a
	// line start); edits on the same or adjacent lines form one region, so
	// that a hunk lists its removed lines before its added ones.
	var regions []diffRegion
	for _, ed := range edits {
		from := lineOf(ed.Start)
		to := from
		if ed.End > ed.Start {
			to = lineOf(ed.End-1) + 1
		} else if ed.Start != starts[from] {
			to = from + 1
		}
		if n := len(regions); n > 0 && from <= regions[n-1].to {
			regions[n-1].to = max(to, regions[n-1].to)
			regions[n-1].edits = append(regions[n-1].edits, ed)
			continue
		}
		regions = append(regions, diffRegion{from: from, to: to, edits: []yamldoc.Edit{ed}})
	}
	for i := range regions {
		r := &regions[i]
		var b strings.Builder
		pos := starts[r.from]
		for _, ed := range r.edits {
			b.Write(old[pos:ed.Start])
			b.WriteString(ed.Text)
			pos = ed.End
		}
		b.Write(old[pos:lineEnd(r.to)])
		r.text = b.String()
	}

	noNewline := len(old) > 0 && old[len(old)-1] != '\n'
	oldLine := func(l int) string { return strings.TrimSuffix(string(old[starts[l]:lineEnd(l+1)]), "\n") }
	var out bytes.Buffer
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	delta := 0 // new line number minus old line number, before the current hunk
	for i := 0; i < len(regions); {
		j := i
		for j+1 < len(regions) && regions[j+1].from-regions[j].to <= 2*diffContext {
			j++
		}
		from, to := max(regions[i].from-diffContext, 0), min(regions[j].to+diffContext, nOld)
		var body bytes.Buffer
		oldCount, newCount, hunkDelta := 0, 0, delta
		context := func(l int) {
			body.WriteString(" " + oldLine(l) + "\n")
			if l == nOld-1 && noNewline {
				body.WriteString("\\ No newline at end of file\n")
			}
			oldCount++
			newCount++
		}
		pos := from
		for _, r := range regions[i : j+1] {
			for ; pos < r.from; pos++ {
				context(pos)
			}
			for ; pos < r.to; pos++ {
				body.WriteString("-" + oldLine(pos) + "\n")
				if pos == nOld-1 && noNewline {
					body.WriteString("\\ No newline at end of file\n")
				}
				oldCount++
			}
			added := splitLines(r.text)
			for _, l := range added {
				body.WriteString("+" + strings.TrimSuffix(l, "\n") + "\n")
				if !strings.HasSuffix(l, "\n") {
					body.WriteString("\\ No newline at end of file\n")
				}
			}
			newCount += len(added)
			delta += len(added) - (r.to - r.from)
		}
		for ; pos < to; pos++ {
			context(pos)
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(from, oldCount), hunkRange(from+hunkDelta, newCount))
		out.Write(body.Bytes())
		i = j + 1
	}
	return out.String()
}

// hunkRange renders one side of a hunk header: the 1-based first line and
// the count; an empty side names the line before it, as diff -u does.
func hunkRange(from, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", from)
	case 1:
		return fmt.Sprintf("%d", from+1)
	}
	return fmt.Sprintf("%d,%d", from+1, count)
}

// splitLines splits s after each newline; a last line without one is kept.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.SplitAfter(s, "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
