package bundle

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// Encode writes the bundle of a valid model. The header's FormatVersion
// and Counts are filled in here. With a key, the bundle is signed. The
// same model and header always give the same bytes.
func Encode(m *promotions.Model, h Header, key ed25519.PrivateKey) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("encode bundle: no model")
	}
	h.FormatVersion = FormatVersion
	h.Counts.Features, h.Counts.Plans = len(m.Features), len(m.Plans)
	h.Counts.Customers, h.Counts.Promotions = len(m.Customers), len(m.Promotions)
	h.Counts.Grants = m.GrantCount()

	e := &encoder{index: map[string]uint64{}}
	e.model(m)
	body := e.buf

	var content []byte
	content = binary.AppendUvarint(content, uint64(len(e.table)))
	for _, s := range e.table {
		content = binary.AppendUvarint(content, uint64(len(s)))
	}
	for _, s := range e.table {
		content = append(content, s...)
	}
	content = append(content, body...)

	header := encodeHeader(h)
	if len(header) > maxHeaderSize {
		return nil, fmt.Errorf("encode bundle: header of %d bytes is over the limit of %d", len(header), maxHeaderSize)
	}
	out := make([]byte, 0, prefixSize+len(header)+8+len(content)+hashSize+sigBlockSize)
	out = append(out, magic[:]...)
	out = binary.LittleEndian.AppendUint16(out, FormatVersion)
	out = binary.LittleEndian.AppendUint16(out, 0)                   // flags, none yet
	out = binary.LittleEndian.AppendUint32(out, uint32(len(header))) // #nosec G115 -- at most maxHeaderSize, checked above
	out = append(out, header...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(content)))
	out = append(out, content...)
	sum := sha256.Sum256(out)
	out = append(out, sum[:]...)
	if key != nil {
		pub, ok := key.Public().(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("encode bundle: signing key has no ed25519 public key")
		}
		id := keyHash(pub)
		out = append(out, sigMagic...)
		out = append(out, id[:]...)
		out = append(out, ed25519.Sign(key, signedMessage(sum[:]))...)
	}
	return out, nil
}

func encodeHeader(h Header) []byte {
	e := &encoder{}
	e.str(h.Promoctl)
	e.str(h.Revision)
	e.str(h.Commit)
	e.bool(h.Dirty)
	e.str(h.ContentHash)
	e.optTime(timePtr(h.CommitTime))
	e.optTime(timePtr(h.BuildTime))
	for _, n := range []int{h.Counts.Features, h.Counts.Plans, h.Counts.Customers, h.Counts.Promotions, h.Counts.Grants} {
		e.uint(uint64(n)) // #nosec G115 -- a count, never negative
	}
	e.uint(uint64(max(h.SourceBytes, 0)))
	return e.buf
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// encoder appends values. In the content, strings are indexes into a
// table of distinct strings (index holds them); in the header, where
// index is nil, they are written out.
type encoder struct {
	buf   []byte
	index map[string]uint64
	table []string
}

func (e *encoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) int(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) str(s string) {
	if e.index == nil {
		e.uint(uint64(len(s)))
		e.buf = append(e.buf, s...)
		return
	}
	i, ok := e.index[s]
	if !ok {
		i = uint64(len(e.table))
		e.index[s] = i
		e.table = append(e.table, s)
	}
	e.uint(i)
}

func (e *encoder) strs(list []string) {
	e.uint(uint64(len(list)))
	for _, s := range list {
		e.str(s)
	}
}

// time writes an instant and its UTC offset, which month arithmetic and
// the JSON answers depend on.
func (e *encoder) time(t time.Time) {
	_, offset := t.Zone()
	e.int(t.Unix())
	e.uint(uint64(t.Nanosecond())) // #nosec G115 -- 0 to 999,999,999
	e.int(int64(offset))
}

func (e *encoder) optTime(t *time.Time) {
	e.bool(t != nil)
	if t != nil {
		e.time(*t)
	}
}

// allowance: 0 none, 1 a value, 2 unlimited.
func (e *encoder) allowance(a *promotions.Allowance) {
	switch {
	case a == nil:
		e.uint(0)
	case a.Unlimited:
		e.uint(2)
	default:
		e.uint(1)
		e.int(a.Value)
	}
}

func (e *encoder) model(m *promotions.Model) {
	features := promotions.SortedKeys(m.Features)
	e.uint(uint64(len(features)))
	for _, k := range features {
		f := m.Features[k]
		e.str(f.Key)
		e.str(f.Name)
		e.str(string(f.Type))
		e.str(f.Unit)
		e.bool(f.Usage != nil)
		if f.Usage != nil {
			e.str(string(f.Usage.Overage))
			e.str(string(f.Usage.OnStoreFailure))
		}
		e.str(f.File)
	}

	plans := promotions.SortedKeys(m.Plans)
	e.uint(uint64(len(plans)))
	for _, k := range plans {
		p := m.Plans[k]
		e.str(p.Key)
		e.str(p.Name)
		e.str(p.File)
		e.uint(uint64(len(p.Entitlements)))
		for _, pe := range p.Entitlements {
			e.str(pe.Feature)
			e.allowance(pe.Allowance)
			e.str(string(pe.Reset))
		}
	}

	e.bool(m.HasDirectory)
	ids := m.CustomerIDs()
	// Attribute sets repeat across many customers: each distinct set is
	// written once and customers refer to it (0: none).
	sets := map[string]uint64{}
	var setList []map[string]string
	refs := make([]uint64, len(ids))
	var key []byte
	for i, id := range ids {
		attrs := m.Customers[id].Attributes
		if attrs == nil {
			continue
		}
		key = key[:0]
		for _, k := range promotions.SortedKeys(attrs) {
			key = append(key, k...)
			key = append(key, 0)
			key = append(key, attrs[k]...)
			key = append(key, 0)
		}
		ref, ok := sets[string(key)]
		if !ok {
			setList = append(setList, attrs)
			ref = uint64(len(setList))
			sets[string(key)] = ref
		}
		refs[i] = ref
	}
	e.uint(uint64(len(setList)))
	for _, attrs := range setList {
		keys := promotions.SortedKeys(attrs)
		e.uint(uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.str(attrs[k])
		}
	}
	e.uint(uint64(len(ids)))
	for i, id := range ids {
		c := m.Customers[id]
		e.str(c.ID)
		e.str(c.Name)
		e.str(c.Email)
		e.str(c.Plan)
		e.uint(refs[i])
		e.str(c.File)
		e.uint(uint64(max(c.Index, 0)))
		e.optTime(c.BillingAnchor)
	}

	promos := m.PromotionIDs()
	e.uint(uint64(len(promos)))
	for _, id := range promos {
		e.promotion(m.Promotions[id])
	}
}

func (e *encoder) promotion(p *promotions.Promotion) {
	e.str(p.ID)
	e.str(p.Name)
	e.str(p.Description)
	e.str(string(p.Status))
	e.optTime(p.DeactivatedAt)
	e.str(p.Feature)
	e.str(string(p.FeatureType))
	e.optTime(p.Window.Start)
	e.optTime(p.Window.End)
	e.bool(p.Duration != nil)
	if d := p.Duration; d != nil {
		e.int(int64(d.Value))
		e.str(string(d.Unit))
	}
	e.bool(p.Metered != nil)
	if mt := p.Metered; mt != nil {
		e.str(string(mt.Mode))
		e.allowance(&mt.Allowance)
		e.str(string(mt.Reset))
	}
	e.bool(p.Eligibility != nil)
	if el := p.Eligibility; el != nil {
		e.bool(el.Plans != nil)
		e.strs(el.Plans)
		e.bool(el.Attributes != nil)
		keys := promotions.SortedKeys(el.Attributes)
		e.uint(uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.bool(el.Attributes[k] != nil)
			e.strs(el.Attributes[k])
		}
	}
	e.bool(p.IsApplied)
	e.bool(p.Grants.All != nil)
	if all := p.Grants.All; all != nil {
		e.time(all.GrantedAt)
		e.optTime(all.RevokedAt)
		e.periods(all.Previous)
	}
	// Entries keep their order in the file: the promotion route and the
	// access list show them as written.
	e.bool(p.Grants.Customers != nil)
	e.uint(uint64(len(p.Grants.Customers)))
	for _, g := range p.Grants.Customers {
		e.str(g.ID)
		e.str(string(g.State))
		e.time(g.GrantedAt)
		e.optTime(g.RevokedAt)
		e.periods(g.Previous)
	}
	e.str(p.File)
}

// periods writes a grant's earlier periods: a count, then each period.
func (e *encoder) periods(list []promotions.Period) {
	e.uint(uint64(len(list)))
	for _, per := range list {
		e.time(per.GrantedAt)
		e.optTime(per.RevokedAt)
	}
}
