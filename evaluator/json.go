package evaluator

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// decisionJSON is the wire form of a Decision (SPEC §5). allowance,
// unlimited and reset are present for metered features only; an unlimited
// allowance is "allowance": null with "unlimited": true.
type decisionJSON struct {
	Customer    string          `json:"customer"`
	Feature     string          `json:"feature"`
	FeatureType string          `json:"feature_type"`
	HasAccess   bool            `json:"has_access"`
	Allowance   json.RawMessage `json:"allowance,omitempty"`
	Unlimited   *bool           `json:"unlimited,omitempty"`
	Reset       *string         `json:"reset,omitempty"`
	ValidUntil  *time.Time      `json:"valid_until"`
	Sources     []sourceJSON    `json:"sources"`
	At          time.Time       `json:"at"`
	Revision    string          `json:"revision"`
}

type sourceJSON struct {
	Kind       string     `json:"kind"`
	ID         string     `json:"id"`
	Grant      string     `json:"grant,omitempty"`
	Mode       string     `json:"mode,omitempty"`
	Allowance  any        `json:"allowance,omitempty"`
	Reset      string     `json:"reset,omitempty"`
	GrantedAt  *time.Time `json:"granted_at,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
}

// MarshalJSON renders the decision as SPEC §5 shows it.
func (d Decision) MarshalJSON() ([]byte, error) {
	out := decisionJSON{
		Customer:    d.Customer,
		Feature:     d.Feature,
		FeatureType: string(d.FeatureType),
		HasAccess:   d.HasAccess,
		ValidUntil:  d.ValidUntil,
		Sources:     make([]sourceJSON, 0, len(d.Sources)),
		At:          d.At.UTC(),
		Revision:    d.Revision,
	}
	if d.FeatureType == promotions.FeatureMetered {
		unlimited := d.Allowance.Unlimited
		reset := string(d.Reset)
		out.Unlimited, out.Reset = &unlimited, &reset
		out.Allowance = json.RawMessage("null")
		if !unlimited {
			out.Allowance = strconv.AppendInt(nil, d.Allowance.Value, 10)
		}
	}
	for _, s := range d.Sources {
		sj := sourceJSON{Kind: s.Kind, ID: s.ID, Grant: s.Grant, Mode: string(s.Mode), Reset: string(s.Reset), ValidUntil: s.ValidUntil}
		if s.Allowance != nil {
			if s.Allowance.Unlimited {
				sj.Allowance = "unlimited"
			} else {
				sj.Allowance = s.Allowance.Value
			}
		}
		if s.Kind == "promotion" {
			ga := s.GrantedAt
			sj.GrantedAt = &ga
		}
		out.Sources = append(out.Sources, sj)
	}
	return json.Marshal(out)
}
