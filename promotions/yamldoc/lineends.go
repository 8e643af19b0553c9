package yamldoc

import (
	"bytes"
	"sort"
	"strings"
)

// utf8BOM is the byte order mark some editors write at the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// plainText is a config file's bytes as the parser reads them: without a
// leading UTF-8 BOM and with each CRLF line end as LF. Lines and columns
// are the same in both (column 1 of line 1 is the first character after
// the BOM, as editors show it); byte offsets are not, and original maps
// them back so that edits land on the file's own bytes.
type plainText struct {
	orig []byte // the file's bytes
	src  []byte // what is parsed
	bom  int    // bytes of BOM removed from the front
	crs  []int  // offset in src of each '\n' that was "\r\n"
	crlf bool   // the file's first line end is CRLF: new lines are written so
}

// normalize returns src as the parser reads it. A file with neither a BOM
// nor a CR is returned as it is, without copying: the common case costs
// two byte scans.
func normalize(src []byte) plainText {
	t := plainText{orig: src, src: src}
	if bytes.HasPrefix(src, utf8BOM) {
		t.bom = len(utf8BOM)
		t.src = src[t.bom:]
	}
	if bytes.IndexByte(t.src, '\r') < 0 {
		return t
	}
	in := t.src
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			t.crs = append(t.crs, len(out))
			continue
		}
		out = append(out, in[i])
	}
	t.src = out
	if nl := bytes.IndexByte(in, '\n'); nl > 0 && in[nl-1] == '\r' {
		t.crlf = true
	}
	return t
}

// changed reports whether the parsed bytes differ from the file's.
func (t plainText) changed() bool { return t.bom > 0 || len(t.crs) > 0 }

// original maps an offset in the parsed bytes to the file's bytes. An
// offset at a line's '\n' maps to its '\r', so text inserted at the end of
// a line goes before the whole line end.
func (t plainText) original(off int) int {
	return t.bom + off + sort.SearchInts(t.crs, off)
}

// edits maps edits planned on the parsed bytes to the file's bytes, their
// new lines written with the file's line end.
func (t plainText) edits(edits []Edit) []Edit {
	if !t.changed() {
		return edits
	}
	out := make([]Edit, len(edits))
	for i, ed := range edits {
		text := ed.Text
		if t.crlf {
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		out[i] = Edit{Start: t.original(ed.Start), End: t.original(ed.End), Text: text}
	}
	return out
}
