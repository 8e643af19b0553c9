package bundle

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// maxAllocPerByte and allocSlack bound what decoding a bundle of N bytes
// may allocate: maxAllocPerByte·N + allocSlack. The worst legitimate ratio
// is a list of the smallest elements (a customer in eight bytes becomes a
// 96-byte struct, a pointer and a map entry); allocSlack covers the fixed
// cost of an empty model and the first block of times.
const (
	maxAllocPerByte = 64
	allocSlack      = 256 << 10
)

// allocatedBy returns the bytes f allocated, from the runtime's running
// total (testing.AllocsPerRun counts allocations, not bytes).
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// assertBoundedDecode decodes data and fails when it allocated more than
// the bound for its size.
func assertBoundedDecode(t testing.TB, data []byte) {
	t.Helper()
	got := allocatedBy(func() { _, _ = Decode(data, Options{}) })
	if limit := maxAllocPerByte*uint64(len(data)) + allocSlack; got > limit {
		t.Fatalf("decoding %d bytes allocated %d bytes, more than %d (%d per byte plus %d)", len(data), got, limit, maxAllocPerByte, allocSlack)
	}
}

// forgedList is the content of a bundle whose string table holds one
// empty string and whose lists before the forged one are empty; the forged
// list claims count elements and is followed by padding zero bytes.
func forgedList(before int, count uint64, padding int) []byte {
	var c []byte
	c = append(c, 1, 0) // a string table of one empty string
	c = append(c, bytes.Repeat([]byte{0}, before)...)
	c = binary.AppendUvarint(c, count)
	return append(c, make([]byte, padding)...)
}

// TestForgedCountsAllocateBoundedMemory forges, for every list of the
// content, a count as large as the bundle's size and a megabyte of
// zeros: the decoder refuses each without allocating for the count.
func TestForgedCountsAllocateBoundedMemory(t *testing.T) {
	const size = 1 << 20
	tests := []struct {
		name    string
		content []byte
	}{
		{"string table", append(binary.AppendUvarint(nil, 20_000_000), make([]byte, size)...)},
		{"features", forgedList(0, 20_000_000, size)},
		{"plans", forgedList(1, 20_000_000, size)},
		{"attribute sets", forgedList(3, 20_000_000, size)},
		{"customers", forgedList(4, 20_000_000, size)},
		{"promotions", forgedList(5, 20_000_000, size)},
		{"promotions, as many as bytes", forgedList(5, size, size)},
		{"customers, as many as bytes", forgedList(4, size, size)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := frameWith(encodeHeader(Header{}), tt.content)
			assertBoundedDecode(t, data)
			_, err := Decode(data, Options{})
			assert.Equal(t, Malformed, ProblemOf(err), "%v", err)
		})
	}
}

// TestUnusedAttributeSetsAllocateBoundedMemory decodes a valid bundle of
// a megabyte of one-pair attribute sets that no customer refers to: a map
// per set would cost a hundred times its three bytes.
func TestUnusedAttributeSetsAllocateBoundedMemory(t *testing.T) {
	const sets = 1 << 18
	content := []byte{1, 0, 0, 0, 0} // a table of "", no features, no plans, no directory
	content = binary.AppendUvarint(content, sets)
	content = append(content, bytes.Repeat([]byte{1, 0, 0}, sets)...)
	content = append(content, 0, 0) // no customers, no promotions
	data := frameWith(encodeHeader(Header{}), content)
	_, err := Decode(data, Options{})
	assert.NoError(t, err)
	assertBoundedDecode(t, data)
}
