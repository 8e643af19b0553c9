package ofrep

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// ErrorCode is an OpenFeature error code.
type ErrorCode string

// The error codes promoctl answers with.
const (
	ParseError          ErrorCode = "PARSE_ERROR"
	TargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	InvalidContext      ErrorCode = "INVALID_CONTEXT"
	FlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	TypeMismatch        ErrorCode = "TYPE_MISMATCH"
	General             ErrorCode = "GENERAL"
)

// Reason says why a flag has its value.
type Reason string

// The reasons of a decision: TARGETING_MATCH when a promotion contributes,
// else DEFAULT (the plan's baseline, or nothing).
const (
	ReasonDefault        Reason = "DEFAULT"
	ReasonTargetingMatch Reason = "TARGETING_MATCH"
)

// Context keys with a meaning of their own.
const (
	TargetingKey = "targetingKey" // the customer id
	PlanKey      = "plan"         // replaces the directory's plan
)

// MaxTargetingKeyLength bounds a customer id, as on every other route.
const MaxTargetingKeyLength = 256

// Unlimited is the value of an unlimited allowance: the largest integer a
// JSON number keeps exactly in JavaScript (Number.MAX_SAFE_INTEGER).
const Unlimited int64 = 9007199254740991

// Error is an evaluation that has no value.
type Error struct {
	Code    ErrorCode
	Details string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Details }

// Query reads an evaluation context as a query for feature at the given
// time: targetingKey is the customer (required, a non-empty string of at
// most MaxTargetingKeyLength bytes), "plan" the plan, and every other
// string value an attribute. Values of other types are ignored: attributes
// are strings. A nil context has no targeting key.
func Query(ctx map[string]any, feature string, at time.Time) (evaluator.Query, *Error) {
	q := evaluator.Query{Feature: feature, At: at}
	switch tk := ctx[TargetingKey].(type) {
	case nil:
		return q, &Error{TargetingKeyMissing, "context.targetingKey (the customer id) is required"}
	case string:
		if tk == "" {
			return q, &Error{TargetingKeyMissing, "context.targetingKey (the customer id) is empty"}
		}
		if len(tk) > MaxTargetingKeyLength {
			return q, &Error{InvalidContext, fmt.Sprintf("context.targetingKey is longer than %d characters", MaxTargetingKeyLength)}
		}
		q.Customer = tk
	default:
		return q, &Error{InvalidContext, "context.targetingKey must be a string"}
	}
	for k, v := range ctx {
		if k == TargetingKey {
			continue
		}
		str, ok := stringValue(v)
		if !ok {
			continue
		}
		if k == PlanKey {
			q.Plan = str
			continue
		}
		if q.Attributes == nil {
			q.Attributes = make(map[string]string, len(ctx))
		}
		q.Attributes[k] = str
	}
	return q, nil
}

// stringValue accepts strings and values of a named string type (a Go
// caller's `type Region string`), which JSON would send as strings too.
func stringValue(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	if v == nil {
		return "", false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// Flag is a decision as an OpenFeature flag.
type Flag struct {
	Key string
	// Metered is true for a metered feature, whose value is Number; a
	// boolean feature's value is Enabled.
	Metered bool
	// Enabled is a boolean feature's value: has_access.
	Enabled bool
	// Number is a metered feature's value: the allowance, Unlimited when
	// it is unlimited.
	Number  int64
	Reason  Reason
	Variant string
	// HasAccess, IsUnlimited, Reset and NextReset are a metered feature's
	// metadata. Reset is "mixed" when the buckets that count reset at
	// different paces; NextReset is the earliest end of their current
	// periods in RFC 3339, "" when none ends (then left out: OpenFeature
	// metadata has no null).
	HasAccess   bool
	IsUnlimited bool
	Reset       string
	NextReset   string
}

// FromDecision maps a decision to a flag.
func FromDecision(d evaluator.Decision) Flag {
	f := Flag{Key: d.Feature, Reason: ReasonDefault, Variant: variant(d)}
	if d.Promoted {
		f.Reason = ReasonTargetingMatch
	}
	if d.FeatureType != promotions.FeatureMetered {
		f.Enabled = d.HasAccess
		return f
	}
	f.Metered = true
	if d.Allowance.Unlimited {
		f.Number = Unlimited
	} else {
		f.Number = min(d.Allowance.Value, Unlimited)
	}
	f.HasAccess, f.IsUnlimited, f.Reset = d.HasAccess, d.Allowance.Unlimited, string(d.Reset)
	if !d.NextReset.IsZero() {
		f.NextReset = promotions.FormatTime(d.NextReset)
	}
	return f
}

// Value is the flag's value: a bool for a boolean feature, an int64 for a
// metered one.
func (f Flag) Value() any {
	if f.Metered {
		return f.Number
	}
	return f.Enabled
}

// Metadata is the flag's metadata: has_access, unlimited, reset and (when
// a period ends) next_reset for a metered feature; nil for a boolean one,
// which has none.
func (f Flag) Metadata() map[string]any {
	if !f.Metered {
		return nil
	}
	md := map[string]any{"has_access": f.HasAccess, "unlimited": f.IsUnlimited, "reset": f.Reset}
	if f.NextReset != "" {
		md["next_reset"] = f.NextReset
	}
	return md
}

// variant names the winning source: for a metered feature the override in
// force, else the first contributing promotion, else the plan; "default"
// when nothing applies. Promotions are "promotion:<id>", plans "plan:<key>".
func variant(d evaluator.Decision) string {
	if d.Override != "" {
		return "promotion:" + d.Override
	}
	for _, src := range d.Sources {
		if src.Kind == evaluator.SourcePromotion {
			return "promotion:" + src.ID
		}
	}
	if len(d.Sources) > 0 {
		return "plan:" + d.Sources[0].ID
	}
	return "default"
}

// Decide decides q against s and maps the decision. A feature the
// snapshot does not define is FLAG_NOT_FOUND, a plan it does not define
// INVALID_CONTEXT.
func Decide(s *snapshot.Snapshot, q evaluator.Query) (Flag, *Error) {
	d, err := evaluator.Decide(s, q)
	if errors.Is(err, evaluator.ErrFeatureNotFound) {
		return Flag{Key: q.Feature}, &Error{FlagNotFound, fmt.Sprintf("no feature %q", q.Feature)}
	}
	var unknownPlan *evaluator.UnknownPlanError
	if errors.As(err, &unknownPlan) {
		return Flag{Key: q.Feature}, &Error{InvalidContext, "context.plan: " + err.Error()}
	}
	if err != nil {
		return Flag{Key: q.Feature}, &Error{General, err.Error()}
	}
	return FromDecision(d), nil
}
