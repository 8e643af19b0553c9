package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/promoctl/promoctl/promotions"
)

// Options say what a reader requires of a bundle.
type Options struct {
	// Key, when set, must have signed the bundle: an unsigned bundle or
	// one signed by another key is refused.
	Key ed25519.PublicKey
	// MaxSize bounds the bundle (0: DefaultMaxSize).
	MaxSize int64
}

// Bundle is a decoded, verified bundle.
type Bundle struct {
	Header Header
	// Hash is the SHA-256 over header and content, hex-encoded.
	Hash string
	// SignedBy is the KeyID of the key that signed the bundle, "" when it
	// is unsigned. Verified says whether the signature was checked against
	// the reader's key (a signed bundle read without a key is not).
	SignedBy string
	Verified bool
	Model    *promotions.Model
	// customers and promotions are the model's objects in key order, as
	// stored: a snapshot is restored from them without sorting.
	customers  []*promotions.Customer
	promotions []*promotions.Promotion
}

// Verify checks a bundle's framing, hash and signature and decodes its
// header, without decoding the content.
func Verify(data []byte, opts Options) (*Bundle, error) {
	b, _, err := verify(data, opts)
	return b, err
}

// Decode verifies a bundle and decodes it whole.
func Decode(data []byte, opts Options) (*Bundle, error) {
	b, content, err := verify(data, opts)
	if err != nil {
		return nil, err
	}
	if err := b.decodeContent(content); err != nil {
		return nil, err
	}
	return b, nil
}

func verify(data []byte, opts Options) (*Bundle, []byte, error) {
	maxSize := opts.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if int64(len(data)) > maxSize {
		return nil, nil, refuse(Oversized, "%d bytes, more than the limit of %d", len(data), maxSize)
	}
	if len(data) < len(magic) {
		if bytes.HasPrefix(magic[:], data) {
			return nil, nil, refuse(Truncated, "%d bytes, shorter than the magic number", len(data))
		}
		return nil, nil, refuse(NotABundle, "the file does not start with promoctl's bundle magic number")
	}
	if !bytes.Equal(data[:len(magic)], magic[:]) {
		return nil, nil, refuse(NotABundle, "the file does not start with promoctl's bundle magic number")
	}
	if len(data) < prefixSize {
		return nil, nil, refuse(Truncated, "%d bytes, shorter than the fixed header", len(data))
	}
	if v := binary.LittleEndian.Uint16(data[8:]); v < FormatVersion {
		return nil, nil, refuse(OtherFormat, "format version %d; this promoctl reads version %d: rebuild the bundle from its repo with this promoctl (promoctl build)", v, FormatVersion)
	} else if v > FormatVersion {
		return nil, nil, refuse(OtherFormat, "format version %d; this promoctl reads version %d (a newer promoctl built it: serve it with that promoctl, or rebuild the bundle with this one)", v, FormatVersion)
	}
	if flags := binary.LittleEndian.Uint16(data[10:]); flags != 0 {
		return nil, nil, refuse(OtherFormat, "unknown flags %#x in a version %d bundle", flags, FormatVersion)
	}
	headerLen := uint64(binary.LittleEndian.Uint32(data[12:]))
	if headerLen > maxHeaderSize {
		return nil, nil, refuse(Malformed, "header length %d is over the limit of %d", headerLen, maxHeaderSize)
	}
	rest := uint64(len(data) - prefixSize) // #nosec G115 -- len(data) >= prefixSize, checked above
	if headerLen+8 > rest {
		return nil, nil, refuse(Truncated, "%d bytes; the header alone needs %d", len(data), uint64(prefixSize)+headerLen+8)
	}
	contentStart := uint64(prefixSize) + headerLen + 8
	contentLen := binary.LittleEndian.Uint64(data[contentStart-8:])
	hashEnd := contentStart + contentLen + hashSize
	if contentLen > uint64(len(data)) || hashEnd > uint64(len(data)) {
		return nil, nil, refuse(Truncated, "%d bytes; header and content declare %d", len(data), contentStart+contentLen+hashSize)
	}
	sum := sha256.Sum256(data[:hashEnd-hashSize])
	if !bytes.Equal(sum[:], data[hashEnd-hashSize:hashEnd]) {
		return nil, nil, refuse(Altered, "its SHA-256 does not match its content")
	}
	b := &Bundle{Hash: fmt.Sprintf("%x", sum)}
	switch trailer := data[hashEnd:]; {
	case len(trailer) == 0:
		if opts.Key != nil {
			return nil, nil, refuse(Unsigned, "unsigned, and a verify key (%s) requires a signature", KeyID(opts.Key))
		}
	case len(trailer) == sigBlockSize && string(trailer[:len(sigMagic)]) == sigMagic:
		var id [keyIDSize]byte
		copy(id[:], trailer[len(sigMagic):])
		b.SignedBy = keyIDString(id)
		if opts.Key != nil {
			if id != keyHash(opts.Key) {
				return nil, nil, refuse(WrongKey, "signed by %s, not by the verify key %s", b.SignedBy, KeyID(opts.Key))
			}
			if !ed25519.Verify(opts.Key, signedMessage(sum[:]), trailer[len(sigMagic)+keyIDSize:]) {
				return nil, nil, refuse(BadSignature, "the signature of %s does not verify", b.SignedBy)
			}
			b.Verified = true
		}
	case len(trailer) < sigBlockSize && bytes.HasPrefix([]byte(sigMagic), trailer[:min(len(trailer), len(sigMagic))]):
		return nil, nil, refuse(Truncated, "the signature block has %d of its %d bytes", len(trailer), sigBlockSize)
	default:
		return nil, nil, refuse(Altered, "%d unexpected bytes after the hash", len(trailer))
	}
	h, err := decodeHeader(data[prefixSize : uint64(prefixSize)+headerLen])
	if err != nil {
		return nil, nil, err
	}
	b.Header = h
	return b, data[contentStart : contentStart+contentLen], nil
}

func decodeHeader(raw []byte) (Header, error) {
	d := &decoder{buf: raw}
	h := Header{FormatVersion: FormatVersion}
	h.Promoctl = d.rawStr()
	h.Revision = d.rawStr()
	h.Commit = d.rawStr()
	h.Dirty = d.bool()
	h.ContentHash = d.rawStr()
	if t := d.optTime(); t != nil {
		h.CommitTime = *t
	}
	if t := d.optTime(); t != nil {
		h.BuildTime = *t
	}
	h.Counts.Features = d.count()
	h.Counts.Plans = d.count()
	h.Counts.Customers = d.count()
	h.Counts.Promotions = d.count()
	h.Counts.Grants = d.count()
	h.SourceBytes = int64(d.count())
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d unexpected bytes at the end of the header", len(d.buf))
	}
	if d.err != nil {
		return Header{}, refuse(Malformed, "header: %v", d.err)
	}
	return h, nil
}

// decoder reads values with a sticky error: after the first problem every
// read returns a zero value, and the caller checks err once.
type decoder struct {
	buf   []byte
	table []string
	err   error
	// times backs the *time.Time fields of the model, allocated in blocks.
	times []time.Time
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.buf = nil
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad or missing varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("bad or missing varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// count reads a figure of the header.
func (d *decoder) count() int {
	v := d.uint()
	if v > 1<<40 {
		d.fail("count %d out of range", v)
		return 0
	}
	return int(v) // #nosec G115 -- at most 1<<40, checked above
}

// items reads the length of a list whose elements are encoded in at least
// minBytes bytes each. A length the remaining bytes cannot hold is refused
// before anything is allocated for it, so a forged count cannot make the
// decoder allocate more than a small multiple of the bundle's size.
func (d *decoder) items(minBytes int) int {
	v := d.uint()
	if v > uint64(len(d.buf))/uint64(max(minBytes, 1)) { // #nosec G115 -- minBytes is a small positive constant
		d.fail("a list of %d items of at least %d bytes each in %d bytes", v, minBytes, len(d.buf))
		return 0
	}
	return int(v) // #nosec G115 -- at most len(d.buf), checked above
}

func (d *decoder) bool() bool {
	if len(d.buf) == 0 {
		d.fail("unexpected end of data")
		return false
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	if b > 1 {
		d.fail("bad boolean %d", b)
		return false
	}
	return b == 1
}

func (d *decoder) rawStr() string {
	n := d.uint()
	if n > uint64(len(d.buf)) {
		d.fail("a string of %d bytes in %d", n, len(d.buf))
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) str() string {
	i := d.uint()
	if i >= uint64(len(d.table)) {
		d.fail("string %d of a table of %d", i, len(d.table))
		return ""
	}
	return d.table[i]
}

func (d *decoder) strs() []string {
	n := d.items(minString)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// Smallest encodings of the list elements, in bytes: every string is a
// table index, every varint and boolean at least one byte, a time three.
const (
	minString      = 1
	minTableEntry  = 1 // its length; the bytes follow in one block
	minFeature     = 6
	minPlan        = 4
	minEntitlement = 3
	minSet         = 1
	minSetEntry    = 2
	minCustomer    = 8
	minPromotion   = 17
	minAttrRule    = 3
	minGrant       = 7
	minPeriod      = 4
)

// maxOffset bounds a UTC offset (time.FixedZone accepts any; real ones are
// within ±18 h).
const maxOffset = 24 * 60 * 60

func (d *decoder) time() time.Time {
	sec := d.int()
	nsec := d.uint()
	offset := d.int()
	if nsec >= 1e9 || offset <= -maxOffset || offset >= maxOffset {
		d.fail("bad time")
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if offset == 0 {
		return t.UTC()
	}
	return t.In(fixedZone(int(offset)))
}

func (d *decoder) optTime() *time.Time {
	if !d.bool() {
		return nil
	}
	if len(d.times) == 0 {
		d.times = make([]time.Time, 256)
	}
	p := &d.times[0]
	d.times = d.times[1:]
	*p = d.time()
	return p
}

var (
	zonesMu sync.Mutex
	zones   = map[int]*time.Location{}
)

// fixedZone shares one Location per offset within a process.
func fixedZone(offset int) *time.Location {
	zonesMu.Lock()
	defer zonesMu.Unlock()
	if z, ok := zones[offset]; ok {
		return z
	}
	z := time.FixedZone("", offset)
	zones[offset] = z
	return z
}

func (d *decoder) allowance() *promotions.Allowance {
	switch kind := d.uint(); kind {
	case 0:
		return nil
	case 1:
		return &promotions.Allowance{Value: d.int()}
	case 2:
		return &promotions.Allowance{Unlimited: true}
	default:
		d.fail("bad allowance kind %d", kind)
		return nil
	}
}

// stringTable reads the table of distinct strings. Their bytes become one
// string that every entry slices, so a million customers' ids, names and
// emails cost one allocation.
func (d *decoder) stringTable() {
	n := d.items(minTableEntry)
	lens := make([]uint64, n)
	var total uint64
	for i := range lens {
		lens[i] = d.uint()
		total += lens[i]
		if total > uint64(len(d.buf)) {
			d.fail("string table of more than %d bytes", len(d.buf))
			return
		}
	}
	if d.err != nil {
		return
	}
	if total > uint64(len(d.buf)) {
		d.fail("string table of %d bytes in %d", total, len(d.buf))
		return
	}
	blob := make([]byte, total)
	copy(blob, d.buf[:total])
	d.buf = d.buf[total:]
	// #nosec G103 -- blob is a private copy that is never written again, so a
	// string may share its bytes.
	all := unsafe.String(unsafe.SliceData(blob), len(blob))
	d.table = make([]string, n)
	var off uint64
	for i, l := range lens {
		d.table[i] = all[off : off+l]
		off += l
	}
}
