package evaluator

import (
	"strconv"
	"time"

	"github.com/promoctl/promoctl/internal/jsonw"
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
	buf = jsonw.String(buf, d.Customer)
	buf = append(buf, `,"feature":`...)
	buf = jsonw.String(buf, d.Feature)
	buf = append(buf, `,"feature_type":`...)
	buf = jsonw.String(buf, string(d.FeatureType))
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
		buf = jsonw.String(buf, string(d.Reset))
		buf = append(buf, `,"next_reset":`...)
		buf = timeOrNull(buf, d.NextReset)
	}
	buf = append(buf, `,"valid_until":`...)
	buf = timeOrNull(buf, d.ValidUntil)
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
	buf = jsonw.Time(buf, d.At.UTC())
	buf = append(buf, `,"revision":`...)
	buf = jsonw.String(buf, d.Revision)
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
			buf = jsonw.String(buf, nc.ID)
			buf = append(buf, `,"reason":`...)
			buf = jsonw.String(buf, string(nc.Reason))
			if nc.Rule != "" {
				buf = append(buf, `,"rule":`...)
				buf = jsonw.String(buf, nc.Rule)
			}
			buf = append(buf, `,"detail":`...)
			buf = jsonw.String(buf, nc.Detail)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

func (s Source) appendJSON(buf []byte, replacedBy string) []byte {
	buf = append(buf, `{"kind":`...)
	buf = jsonw.String(buf, string(s.Kind))
	buf = append(buf, `,"id":`...)
	buf = jsonw.String(buf, s.ID)
	if s.Grant != "" {
		buf = append(buf, `,"grant":`...)
		buf = jsonw.String(buf, s.Grant)
	}
	if s.Mode != "" {
		buf = append(buf, `,"mode":`...)
		buf = jsonw.String(buf, string(s.Mode))
	}
	if s.Metered {
		buf = append(buf, `,"allowance":`...)
		if s.Allowance.Unlimited {
			buf = append(buf, `"unlimited"`...)
		} else {
			buf = strconv.AppendInt(buf, s.Allowance.Value, 10)
		}
		buf = append(buf, `,"reset":`...)
		buf = jsonw.String(buf, string(s.Reset))
	}
	if replacedBy != "" {
		buf = append(buf, `,"replaced_by":`...)
		buf = jsonw.String(buf, replacedBy)
	}
	if s.Kind == SourcePromotion {
		buf = append(buf, `,"granted_at":`...)
		buf = jsonw.Time(buf, s.GrantedAt.UTC())
		buf = append(buf, `,"valid_until":`...)
		buf = timeOrNull(buf, s.ValidUntil)
	}
	return append(buf, '}')
}

// appendJSON writes a bucket as the README shows it; a replaced bucket
// (Decision.Replaced) carries replaced_by.
func (b *Bucket) appendJSON(buf []byte) []byte {
	buf = append(buf, `{"source":"`...)
	buf = b.AppendSourceID(buf) // ids and instants need no escaping
	buf = append(buf, `","kind":`...)
	buf = jsonw.String(buf, string(b.Source.Kind))
	if b.Source.Mode != "" {
		buf = append(buf, `,"mode":`...)
		buf = jsonw.String(buf, string(b.Source.Mode))
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
	buf = jsonw.String(buf, string(b.Schedule.Reset))
	buf = append(buf, `,"period_start":`...)
	buf = timeOrNull(buf, b.Period.StartTime())
	buf = append(buf, `,"period_end":`...)
	buf = timeOrNull(buf, b.Period.EndTime())
	if b.ReplacedBy != "" {
		buf = append(buf, `,"replaced_by":`...)
		buf = jsonw.String(buf, b.ReplacedBy)
	} else {
		buf = append(buf, `,"order":`...)
		buf = strconv.AppendInt(buf, int64(b.Order), 10)
	}
	return append(buf, '}')
}

// timeOrNull writes t in UTC, as every instant of a decision is shown.
func timeOrNull(buf []byte, t time.Time) []byte { return jsonw.TimeOrNull(buf, t.UTC()) }
