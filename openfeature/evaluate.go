package openfeature

import (
	"context"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/promoctl/promoctl/evaluator/ofrep"
)

// The typed evaluations read a flag as an OFREP client reads the sidecar's
// answer (the Go OFREP provider, go-sdk-contrib/providers/ofrep): a boolean
// feature is a bool; a metered feature is a number, so Int, Float and
// Object (a float64, as JSON decodes it) all read it; anything else is
// TYPE_MISMATCH with the caller's default.

// BooleanEvaluation decides a boolean feature: has_access.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, ctx of.FlattenedContext) of.BoolResolutionDetail {
	v, res := typed(p, flag, def, ctx, false, "boolean", func(f ofrep.Flag) bool { return f.Enabled })
	return of.BoolResolutionDetail{Value: v, ProviderResolutionDetail: res}
}

// IntEvaluation decides a metered feature: the allowance, 9007199254740991
// when unlimited.
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, ctx of.FlattenedContext) of.IntResolutionDetail {
	v, res := typed(p, flag, def, ctx, true, "integer", func(f ofrep.Flag) int64 { return f.Number })
	return of.IntResolutionDetail{Value: v, ProviderResolutionDetail: res}
}

// FloatEvaluation decides a metered feature as a float64.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, ctx of.FlattenedContext) of.FloatResolutionDetail {
	v, res := typed(p, flag, def, ctx, true, "float", func(f ofrep.Flag) float64 { return float64(f.Number) })
	return of.FloatResolutionDetail{Value: v, ProviderResolutionDetail: res}
}

// typed evaluates flag and reads its value when the feature's type fits
// the call (metered or not): the caller's default with TYPE_MISMATCH
// otherwise, and with the error on any failure.
func typed[T any](p *Provider, flag string, def T, ctx of.FlattenedContext, metered bool, kind string, value func(ofrep.Flag) T) (T, of.ProviderResolutionDetail) {
	f, res := p.evaluate(flag, ctx)
	if res.Reason != of.ErrorReason && f.Metered != metered {
		res = mismatch(flag, kind)
	}
	if res.Reason == of.ErrorReason {
		return def, res
	}
	return value(f), res
}

// StringEvaluation is always TYPE_MISMATCH for a feature that exists: no
// feature has a string value.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, ctx of.FlattenedContext) of.StringResolutionDetail {
	_, res := p.evaluate(flag, ctx)
	if res.Reason != of.ErrorReason {
		res = mismatch(flag, "string")
	}
	return of.StringResolutionDetail{Value: def, ProviderResolutionDetail: res}
}

// ObjectEvaluation gives a boolean feature's bool or a metered feature's
// float64 (what the Go OFREP provider gives for the same answer).
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, ctx of.FlattenedContext) of.InterfaceResolutionDetail {
	f, res := p.evaluate(flag, ctx)
	if res.Reason == of.ErrorReason {
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: res}
	}
	var v any = f.Enabled
	if f.Metered {
		v = float64(f.Number)
	}
	return of.InterfaceResolutionDetail{Value: v, ProviderResolutionDetail: res}
}

// evaluate decides flag for the context, in the sidecar's order: the
// context is checked before readiness.
func (p *Provider) evaluate(flag string, ctx of.FlattenedContext) (ofrep.Flag, of.ProviderResolutionDetail) {
	q, qerr := ofrep.Query(ctx, flag, p.now().UTC())
	if qerr != nil {
		return ofrep.Flag{}, failed(qerr)
	}
	snap := p.store.Snapshot()
	if snap == nil {
		return ofrep.Flag{}, of.ProviderResolutionDetail{
			ResolutionError: of.NewProviderNotReadyResolutionError("no valid snapshot loaded yet: " + p.lastError().Error()),
			Reason:          of.ErrorReason,
		}
	}
	f, ferr := ofrep.Decide(snap, q)
	if ferr != nil {
		return ofrep.Flag{}, failed(ferr)
	}
	return f, of.ProviderResolutionDetail{Reason: of.Reason(f.Reason), Variant: f.Variant, FlagMetadata: f.Metadata()}
}

func failed(e *ofrep.Error) of.ProviderResolutionDetail {
	var re of.ResolutionError
	switch e.Code {
	case ofrep.FlagNotFound:
		re = of.NewFlagNotFoundResolutionError(e.Details)
	case ofrep.TargetingKeyMissing:
		re = of.NewTargetingKeyMissingResolutionError(e.Details)
	case ofrep.InvalidContext:
		re = of.NewInvalidContextResolutionError(e.Details)
	case ofrep.ParseError:
		re = of.NewParseErrorResolutionError(e.Details)
	case ofrep.TypeMismatch:
		re = of.NewTypeMismatchResolutionError(e.Details)
	default:
		re = of.NewGeneralResolutionError(e.Details)
	}
	return of.ProviderResolutionDetail{ResolutionError: re, Reason: of.ErrorReason}
}

func mismatch(flag, asked string) of.ProviderResolutionDetail {
	return failed(&ofrep.Error{Code: ofrep.TypeMismatch, Details: "feature " + flag + " has no " + asked + " value"})
}
