// Package opabench compares promoctl's decisions with the same decision rules
// decision written in Rego (policy.rego) and evaluated by OPA over the same
// data set, loaded into OPA's in-memory store. It is a module of its own so
// that OPA never enters promoctl's go.mod.
package opabench

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

//go:embed policy.rego
var policy string

// Data converts a compiled snapshot into the document policy.rego reads
// under data.promoctl. Every lookup a decision needs is a map access, as in
// promoctl's indexes:
//
//	customers[id]             {plan, attributes: {key: value}}
//	plans[key][feature]       {allowance, unlimited, reset} ({} for boolean)
//	features[key]             {type, all_grants: {promotion: grant}}
//	promotions[id]            {plans: {plan: true}, attributes: {key: {value: true}}, mode, allowance, unlimited, reset}
//	grants[customer][feature] {promotion: grant}
//
// A grant is {first, periods: [{granted_at, until}]} in Unix microseconds:
// first is when a customer's entry starts deciding, and until is the end
// of a period's duration, its revocation or the promotion's deactivation
// as the compiler computed it, so Rego needs no date arithmetic. A promotion open to every plan lists every
// plan (and "" for a customer without one).
func Data(s *snapshot.Snapshot) map[string]any {
	m, r := s.Model, s.Read()

	customers := make(map[string]any, len(m.Customers))
	for id, c := range m.Customers {
		attrs := make(map[string]any, len(c.Attributes))
		for k, v := range c.Attributes {
			attrs[k] = v
		}
		customers[id] = map[string]any{"plan": c.Plan, "attributes": attrs}
	}

	plans := make(map[string]any, len(m.Plans))
	for key, p := range m.Plans {
		entitlements := make(map[string]any, len(p.Entitlements))
		for _, e := range p.Entitlements {
			ent := map[string]any{}
			if e.Allowance != nil {
				ent["allowance"], ent["unlimited"], ent["reset"] = e.Allowance.Value, e.Allowance.Unlimited, string(e.Reset)
			}
			entitlements[e.Feature] = ent
		}
		plans[key] = entitlements
	}

	features := make(map[string]any, len(m.Features))
	for key, f := range m.Features {
		all := map[string]any{}
		if row := r.Feature(key); row != nil {
			for _, g := range row.AllGrants {
				all[g.Promotion.ID] = grant(g.GrantedAt, g.Until, g.Earlier)
			}
		}
		features[key] = map[string]any{"type": string(f.Type), "all_grants": all}
	}

	// A promotion open to every plan lists them all, and "" for a customer
	// with none, so that Rego checks a plan with one lookup.
	allPlans := []string{""}
	for key := range m.Plans {
		allPlans = append(allPlans, key)
	}
	promos := make(map[string]any, len(m.Promotions))
	type pair struct{ customer, feature string }
	pairs := map[pair]bool{}
	for id, p := range m.Promotions {
		promos[id] = promotion(p, allPlans)
		for _, g := range p.Grants.Customers {
			pairs[pair{g.ID, p.Feature}] = true
		}
	}

	grants := map[string]any{}
	for k := range pairs {
		rows := r.CustomerGrants(k.customer, k.feature)
		byPromotion := make(map[string]any, len(rows))
		for _, g := range rows {
			byPromotion[g.Promotion.ID] = grant(g.GrantedAt, g.Until, g.Earlier)
		}
		byFeature, ok := grants[k.customer].(map[string]any)
		if !ok {
			byFeature = map[string]any{}
			grants[k.customer] = byFeature
		}
		byFeature[k.feature] = byPromotion
	}

	return map[string]any{
		"customers": customers, "plans": plans, "features": features,
		"promotions": promos, "grants": grants,
	}
}

// grant lists every period of a grant, the earlier ones first.
func grant(grantedAt, until int64, earlier *[]snapshot.Span) map[string]any {
	var periods []any
	if earlier != nil {
		for _, s := range *earlier {
			periods = append(periods, map[string]any{"granted_at": s.From, "until": s.Until})
		}
	}
	periods = append(periods, map[string]any{"granted_at": grantedAt, "until": until})
	first := periods[0].(map[string]any)["granted_at"]
	return map[string]any{"first": first, "periods": periods}
}

func promotion(p *promotions.Promotion, allPlans []string) map[string]any {
	planSet := map[string]any{}
	attributes := map[string]any{}
	if e := p.Eligibility; e == nil || len(e.Plans) == 0 {
		for _, plan := range allPlans {
			planSet[plan] = true
		}
	}
	if e := p.Eligibility; e != nil {
		for _, plan := range e.Plans {
			planSet[plan] = true
		}
		for key, values := range e.Attributes {
			allowed := make(map[string]any, len(values))
			for _, v := range values {
				allowed[v] = true
			}
			attributes[key] = allowed
		}
	}
	out := map[string]any{"plans": planSet, "attributes": attributes}
	if mt := p.Metered; mt != nil {
		out["mode"], out["allowance"], out["unlimited"], out["reset"] = string(mt.Mode), mt.Allowance.Value, mt.Allowance.Unlimited, string(mt.Reset)
	}
	return out
}

// Engine is policy.rego prepared once over a data set in OPA's in-memory
// store, configured the way OPA evaluates fastest: values are converted to
// AST once when the data is written, not on every read, and every
// evaluation shares one read transaction (promoctl's decisions share one
// too).
type Engine struct {
	query rego.PreparedEvalQuery
	txn   storage.Transaction
}

// NewEngine loads data under data.promoctl and prepares the decision query.
func NewEngine(ctx context.Context, data map[string]any) (*Engine, error) {
	store := inmem.NewFromObjectWithOpts(map[string]any{"promoctl": data},
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("open OPA store: %w", err)
	}
	query, err := rego.New(
		rego.Query("data.entitlements.decision"),
		rego.Module("policy.rego", policy),
		rego.Store(store),
		rego.Transaction(txn),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare policy.rego: %w", err)
	}
	return &Engine{query: query, txn: txn}, nil
}

// Input is a prepared query input: converted to OPA's AST once, as a caller
// that asks the same question repeatedly would.
type Input struct{ value ast.Value }

// NewInput builds the input of a decision at t (Unix microseconds).
func NewInput(customer, feature string, at int64) (Input, error) {
	v, err := ast.InterfaceToValue(map[string]any{"customer": customer, "feature": feature, "at": at})
	if err != nil {
		return Input{}, fmt.Errorf("input: %w", err)
	}
	return Input{value: v}, nil
}

// Decide evaluates the decision; the result is policy.rego's decision
// object (numbers are json.Number), or nil when the feature is unknown.
func (e *Engine) Decide(ctx context.Context, in Input) (map[string]any, error) {
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(in.value), rego.EvalTransaction(e.txn))
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	d, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decision is %T, want an object", rs[0].Expressions[0].Value)
	}
	return d, nil
}
