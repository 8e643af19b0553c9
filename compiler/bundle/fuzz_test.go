package bundle

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// FuzzDecode feeds the decoder arbitrary bytes twice: as a whole file, and
// as the content of a correctly framed and hashed bundle, which is how the
// fuzzer gets past the SHA-256 into the content decoder. Decoding must
// never panic, whatever it accepts must build a snapshot, and decoding N
// bytes must never allocate more than a small multiple of N.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		assertBoundedDecode(t, data)
		assertBoundedDecode(t, frame(data))
		if b, err := Decode(data, Options{}); err == nil {
			if _, err := b.Snapshot(b.Header.Revision); err != nil {
				t.Fatalf("a decoded bundle does not build: %v", err)
			}
		} else if ProblemOf(err) == "" {
			t.Fatalf("a refusal without a problem: %v", err)
		}
		b, err := Decode(frame(data), Options{})
		if err != nil {
			if p := ProblemOf(err); p != Malformed {
				t.Fatalf("framed content refused as %q, not as malformed: %v", p, err)
			}
			return
		}
		if _, err := b.Snapshot(b.Header.Revision); err != nil {
			t.Fatalf("a decoded bundle does not build: %v", err)
		}
	})
}

// frame wraps content in a valid prefix, an empty header with counts that
// the content decoder then compares, and the right hash. When content
// itself is a whole bundle, its own content is used.
func frame(content []byte) []byte {
	if b, c, err := verify(content, Options{}); err == nil {
		return frameWith(encodeHeader(b.Header), c)
	}
	return frameWith(encodeHeader(Header{}), content)
}

func frameWith(header, content []byte) []byte {
	var out []byte
	out = append(out, magic[:]...)
	out = binary.LittleEndian.AppendUint16(out, FormatVersion)
	out = binary.LittleEndian.AppendUint16(out, 0)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
	out = append(out, header...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(content)))
	out = append(out, content...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}
