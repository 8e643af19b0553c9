package evaluator

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The wire form of a decision (the README shows it) is written by hand rather than with
// encoding/json: it is on the sidecar's hot path, and appending to a
// caller's buffer costs no allocation beyond the buffer itself.
//
// allowance, unlimited and reset are present for metered features only; an
// unlimited allowance is "allowance": null with "unlimited": true, and a
// source's unlimited allowance is the string "unlimited", as in YAML.

// MarshalJSON renders the decision as the README shows it.
func (d Decision) MarshalJSON() ([]byte, error) {
	return d.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends the decision's JSON object to buf.
func (d Decision) AppendJSON(buf []byte) []byte {
	buf = append(buf, `{"customer":`...)
	buf = appendString(buf, d.Customer)
	buf = append(buf, `,"feature":`...)
	buf = appendString(buf, d.Feature)
	buf = append(buf, `,"feature_type":`...)
	buf = appendString(buf, string(d.FeatureType))
	buf = append(buf, `,"has_access":`...)
	buf = strconv.AppendBool(buf, d.HasAccess)
	if d.FeatureType == "metered" {
		buf = append(buf, `,"allowance":`...)
		if d.Allowance.Unlimited {
			buf = append(buf, "null"...)
		} else {
			buf = strconv.AppendInt(buf, d.Allowance.Value, 10)
		}
		buf = append(buf, `,"unlimited":`...)
		buf = strconv.AppendBool(buf, d.Allowance.Unlimited)
		buf = append(buf, `,"reset":`...)
		buf = appendString(buf, string(d.Reset))
		buf = append(buf, `,"next_reset":`...)
		buf = appendTimeOrNull(buf, d.NextReset)
	}
	buf = append(buf, `,"valid_until":`...)
	buf = appendTimeOrNull(buf, d.ValidUntil)
	buf = append(buf, `,"sources":[`...)
	for i := range d.Sources {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = d.Sources[i].appendJSON(buf, replacedBy(d.Override, &d.Sources[i]))
	}
	buf = append(buf, ']')
	if d.FeatureType == "metered" {
		buf = append(buf, `,"buckets":[`...)
		for i := range d.Buckets {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = d.Buckets[i].appendJSON(buf)
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"at":`...)
	buf = appendTime(buf, d.At)
	buf = append(buf, `,"revision":`...)
	buf = appendString(buf, d.Revision)
	if d.Directory {
		buf = append(buf, `,"customer_known":`...)
		buf = strconv.AppendBool(buf, d.CustomerKnown)
	}
	if d.NotContributing != nil {
		buf = append(buf, `,"not_contributing":[`...)
		for i, nc := range d.NotContributing {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"id":`...)
			buf = appendString(buf, nc.ID)
			buf = append(buf, `,"reason":`...)
			buf = appendString(buf, string(nc.Reason))
			if nc.Rule != "" {
				buf = append(buf, `,"rule":`...)
				buf = appendString(buf, nc.Rule)
			}
			buf = append(buf, `,"detail":`...)
			buf = appendString(buf, nc.Detail)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

func (s Source) appendJSON(buf []byte, replacedBy string) []byte {
	buf = append(buf, `{"kind":`...)
	buf = appendString(buf, string(s.Kind))
	buf = append(buf, `,"id":`...)
	buf = appendString(buf, s.ID)
	if s.Grant != "" {
		buf = append(buf, `,"grant":`...)
		buf = appendString(buf, s.Grant)
	}
	if s.Mode != "" {
		buf = append(buf, `,"mode":`...)
		buf = appendString(buf, string(s.Mode))
	}
	if s.Metered {
		buf = append(buf, `,"allowance":`...)
		if s.Allowance.Unlimited {
			buf = append(buf, `"unlimited"`...)
		} else {
			buf = strconv.AppendInt(buf, s.Allowance.Value, 10)
		}
		buf = append(buf, `,"reset":`...)
		buf = appendString(buf, string(s.Reset))
	}
	if replacedBy != "" {
		buf = append(buf, `,"replaced_by":`...)
		buf = appendString(buf, replacedBy)
	}
	if s.Kind == SourcePromotion {
		buf = append(buf, `,"granted_at":`...)
		buf = appendTime(buf, s.GrantedAt)
		buf = append(buf, `,"valid_until":`...)
		buf = appendTimeOrNull(buf, s.ValidUntil)
	}
	return append(buf, '}')
}

// appendJSON writes a bucket as the README shows it; a replaced bucket
// (Decision.Replaced) carries replaced_by.
func (b *Bucket) appendJSON(buf []byte) []byte {
	buf = append(buf, `{"source":"`...)
	buf = b.AppendSourceID(buf) // ids and instants need no escaping
	buf = append(buf, `","kind":`...)
	buf = appendString(buf, string(b.Source.Kind))
	if b.Source.Mode != "" {
		buf = append(buf, `,"mode":`...)
		buf = appendString(buf, string(b.Source.Mode))
	}
	buf = append(buf, `,"allowance":`...)
	if a := b.Source.Allowance; a.Unlimited {
		buf = append(buf, "null"...)
	} else {
		buf = strconv.AppendInt(buf, a.Value, 10)
	}
	buf = append(buf, `,"unlimited":`...)
	buf = strconv.AppendBool(buf, b.Source.Allowance.Unlimited)
	buf = append(buf, `,"reset":`...)
	buf = appendString(buf, string(b.Schedule.Reset))
	buf = append(buf, `,"period_start":`...)
	buf = appendTimeOrNull(buf, b.Period.StartTime())
	buf = append(buf, `,"period_end":`...)
	buf = appendTimeOrNull(buf, b.Period.EndTime())
	if b.ReplacedBy != "" {
		buf = append(buf, `,"replaced_by":`...)
		buf = appendString(buf, b.ReplacedBy)
	} else {
		buf = append(buf, `,"order":`...)
		buf = strconv.AppendInt(buf, int64(b.Order), 10)
	}
	return append(buf, '}')
}

func appendTime(buf []byte, t time.Time) []byte {
	buf = append(buf, '"')
	buf = t.UTC().AppendFormat(buf, time.RFC3339Nano)
	return append(buf, '"')
}

func appendTimeOrNull(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(buf, "null"...)
	}
	return appendTime(buf, t)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Query values such as customer
// ids come from callers, so every control character and invalid UTF-8 byte
// is escaped.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
