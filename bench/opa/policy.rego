# promoctl's decision (README, "How a decision is made") in Rego, over the
# data opabench.Data builds from a compiled snapshot. Times are Unix
# microseconds; every period of a grant carries the instant it stops
# contributing ("until": its natural end, revocation or the promotion's
# deactivation), so no date arithmetic is needed.
#
# input: {"customer": id, "feature": key, "at": microseconds}
package entitlements

forever := 9223372036854775807

customer := data.promoctl.customers[input.customer]

default customer_attributes := {}

customer_attributes := customer.attributes

default plan := ""

plan := customer.plan

feature := data.promoctl.features[input.feature]

metered if feature.type == "metered"

# The plan's entitlement for the feature; undefined when the plan has none.
baseline := data.promoctl.plans[plan][input.feature]

own_grants := data.promoctl.grants[input.customer][input.feature]

# attribute_refused holds when the customer lacks a required attribute
# value. The lookup must stay defined for a missing attribute: Rego lifts
# nested references out of a negation, and an undefined one would make the
# whole rule undefined rather than the attribute refused.
attribute_refused(required) if {
	some key, allowed in required
	not allowed[object.get(customer_attributes, key, null)]
}

# own[id] is the customer's entry for promotion id once it decides: from
# its first granted_at on. Before that, grants.all decides.
own[id] := g if {
	some id, g in own_grants
	g.first <= input.at
}

# grant[id] is the grant that decides for promotion id.
grant[id] := g if some id, g in own

grant[id] := g if {
	some id, g in feature.all_grants
	not own[id]
}

# period[id] is the period of grant[id] that holds input.at.
period[id] := p if {
	some id, g in grant
	some p in g.periods
	p.granted_at <= input.at
	input.at < p.until
}

# Checks are inlined rather than called as functions: OPA evaluates them
# markedly faster that way. promotions[id].plans lists every plan when the
# promotion does not restrict plans. Deactivation needs no check: it ends
# every period at deactivated_at.
contributing contains id if {
	some id, _ in period
	p := data.promoctl.promotions[id]
	p.plans[plan]
	not attribute_refused(p.attributes)
}

# The override in force is the one with the highest rate, allowance per
# day (unlimited highest; a never override whose grant does not end below
# every other, and among such by allowance); ties: earliest granted_at,
# then smallest id. Rates are compared by cross-multiplying, exactly.
reset_length := {
	"daily": 86400000000,
	"weekly": 604800000000,
	"monthly": 2629800000000,
	"yearly": 31557600000000,
}

override_info[id] := {"unlimited": p.unlimited, "bounded": bounded, "allowance": p.allowance, "length": length, "at": per.granted_at, "id": id} if {
	some id in contributing
	p := data.promoctl.promotions[id]
	p.mode == "override"
	per := period[id]
	length := object.get(reset_length, p.reset, per.until - per.granted_at)
	bounded := is_bounded(p.reset, per.until)
}

# A never override is given over its grant's period, which has no rate
# when the grant does not end.
is_bounded(reset, until) := true if {
	reset != "never"
} else := true if {
	until < forever
} else := false

better(a, b) if {
	a.unlimited
	not b.unlimited
}

better(a, b) if {
	not a.unlimited
	not b.unlimited
	a.bounded
	not b.bounded
}

better(a, b) if {
	not a.unlimited
	not b.unlimited
	a.bounded
	b.bounded
	a.allowance * b.length > b.allowance * a.length
}

better(a, b) if {
	not a.unlimited
	not b.unlimited
	not a.bounded
	not b.bounded
	a.allowance > b.allowance
}

same_rate(a, b) if {
	a.unlimited
	b.unlimited
}

same_rate(a, b) if {
	not a.unlimited
	not b.unlimited
	a.bounded
	b.bounded
	a.allowance * b.length == b.allowance * a.length
}

same_rate(a, b) if {
	not a.unlimited
	not b.unlimited
	not a.bounded
	not b.bounded
	a.allowance == b.allowance
}

beats(a, b) if better(a, b)

beats(a, b) if {
	same_rate(a, b)
	[a.at, a.id] < [b.at, b.id]
}

beaten(id) if {
	some other, b in override_info
	other != id
	beats(b, override_info[id])
}

best_id := id if {
	some id, _ in override_info
	not beaten(id)
}

best := data.promoctl.promotions[best_id]

default start := {"allowance": 0, "unlimited": false, "reset": ""}

start := best

start := baseline if not best

additive_ids := sort([id |
	some id in contributing
	data.promoctl.promotions[id].mode == "additive"
])

default unlimited := false

unlimited if start.unlimited

unlimited if {
	some id in additive_ids
	data.promoctl.promotions[id].unlimited
}

allowance := start.allowance + sum([data.promoctl.promotions[id].allowance | some id in additive_ids]) if not unlimited

# null when unlimited, as in promoctl's answer.
default amount := null

amount := allowance

# Each bucket that counts keeps its reset: the answer's is theirs when
# they share one, else "mixed".
counting_resets contains baseline.reset if not best

counting_resets contains best.reset

counting_resets contains data.promoctl.promotions[id].reset if some id in additive_ids

default reset := ""

reset := r if {
	count(counting_resets) == 1
	some r in counting_resets
}

reset := "mixed" if count(counting_resets) > 1

default has_access := false

has_access if {
	metered
	unlimited
}

has_access if {
	metered
	allowance > 0
}

has_access if {
	not metered
	baseline
}

has_access if {
	not metered
	count(contributing) > 0
}

ends := [period[id].until | some id in contributing; period[id].until < forever]

default valid_until := null

valid_until := min(ends) if count(ends) > 0

promotions := sort([id | some id in contributing])

decision := {
	"has_access": has_access,
	"allowance": amount,
	"unlimited": unlimited,
	"reset": reset,
	"valid_until": valid_until,
	"promotions": promotions,
} if metered

decision := {
	"has_access": has_access,
	"valid_until": valid_until,
	"promotions": promotions,
} if not metered
