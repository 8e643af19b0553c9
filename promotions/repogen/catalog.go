package repogen

import (
	"slices"
	"strconv"

	"github.com/promoctl/promoctl/promotions"
)

// featureSpec is a feature of the catalog with what plans and promotions
// need to give it realistic numbers.
type featureSpec struct {
	key, name, unit string
	metered         bool
	reset           promotions.Reset
	base            int64 // starter-level allowance; higher tiers multiply it
	minTier         int   // lowest ladder tier whose plan includes the feature
}

// The catalog alternates metered and boolean features so that any prefix
// has both types; HotFeature comes first.
var (
	meteredCatalog = []featureSpec{
		{key: HotFeature, name: "API calls", unit: "call", reset: promotions.ResetMonthly, base: 10_000},
		{key: "seats", name: "Seats", unit: "seat", reset: promotions.ResetNever, base: 3},
		{key: "storage_gb", name: "Storage", unit: "GB", reset: promotions.ResetNever, base: 10},
		{key: "build_minutes", name: "Build minutes", unit: "minute", reset: promotions.ResetMonthly, base: 500},
		{key: "emails_sent", name: "Emails sent", unit: "email", reset: promotions.ResetMonthly, base: 1_000},
		{key: "projects", name: "Projects", unit: "project", reset: promotions.ResetNever, base: 3},
		{key: "ai_tokens", name: "AI tokens", unit: "token", reset: promotions.ResetMonthly, base: 100_000},
		{key: "webhooks", name: "Webhook endpoints", unit: "endpoint", reset: promotions.ResetNever, base: 5},
		{key: "data_exports", name: "Data exports", unit: "export", reset: promotions.ResetDaily, base: 5},
		{key: "environments", name: "Environments", unit: "environment", reset: promotions.ResetNever, base: 2, minTier: 1},
	}
	booleanCatalog = []featureSpec{
		{key: "sso", name: "Single sign-on", minTier: 4},
		{key: "audit_log", name: "Audit log", minTier: 1},
		{key: "priority_support", name: "Priority support", minTier: 4},
		{key: "custom_domain", name: "Custom domain", minTier: 1},
		{key: "scim", name: "SCIM provisioning", minTier: 3},
		{key: "ip_allowlist", name: "IP allowlist", minTier: 2},
		{key: "sandbox", name: "Sandbox environment", minTier: 1},
		{key: "advanced_analytics", name: "Advanced analytics", minTier: 2},
		{key: "white_label", name: "White label", minTier: 4},
		{key: "data_residency", name: "Data residency", minTier: 3},
	}
)

// features returns n features. Past the catalog, keys repeat with a
// numeric suffix (api_calls_2, sso_2, …).
func features(n int) []featureSpec {
	out := make([]featureSpec, 0, n)
	for round := 1; len(out) < n; round++ {
		for i := 0; i < len(meteredCatalog) && len(out) < n; i++ {
			metered := meteredCatalog[i]
			metered.metered = true
			for _, f := range []featureSpec{metered, booleanCatalog[i]} {
				if len(out) == n {
					break
				}
				if round > 1 {
					f.key += "_" + strconv.Itoa(round)
					f.name += " (" + strconv.Itoa(round) + ")"
				}
				out = append(out, f)
			}
		}
	}
	return out
}

// planSpec is a pricing plan on the ladder starter < growth < business <
// scale < enterprise.
type planSpec struct {
	key, name string
	tier      int
	weight    int // share of customers on the plan
}

var planLadder = []planSpec{
	{key: "starter", name: "Starter", tier: 0, weight: 55},
	{key: HotPlan, name: "Growth", tier: 1, weight: 28},
	{key: "business", name: "Business", tier: 2, weight: 9},
	{key: "scale", name: "Scale", tier: 3, weight: 5},
	{key: "enterprise", name: "Enterprise", tier: 4, weight: 3},
}

// plans returns n plans (3 to 5): starter, growth and enterprise always,
// business and scale as n grows.
func plans(n int) []planSpec {
	switch n {
	case 3:
		return []planSpec{planLadder[0], planLadder[1], planLadder[4]}
	case 4:
		return []planSpec{planLadder[0], planLadder[1], planLadder[2], planLadder[4]}
	default:
		return append([]planSpec(nil), planLadder...)
	}
}

// tierMultiplier scales a metered feature's base allowance per tier.
var tierMultiplier = []int64{1, 10, 40, 100, 500}

// Customer attributes: each value's share of customers.
var (
	regions        = []string{"eu", "us", "apac", "latam"}
	regionWeights  = []int{35, 45, 15, 5}
	segments       = []string{"smb", "midmarket", "enterprise"}
	segmentWeights = []int{60, 30, 10}
	industries     = []string{"saas", "retail", "fintech", "health", "media", "education"}
)

// Hot customers' attribute indexes: region eu, segment midmarket.
const (
	hotRegion  = 0
	hotSegment = 1
)

var (
	nameAdjectives = []string{"Brightwater", "Fjordline", "Kestrel", "Lindqvist", "Northwind", "Bluepeak", "Copperleaf",
		"Silverline", "Redwood", "Ironbark", "Stonebridge", "Clearview", "Harbor", "Summit", "Granite", "Evergreen",
		"Lakeside", "Foxglove", "Windmill", "Juniper", "Aurora", "Meridian", "Pinecrest", "Saltmarsh"}
	nameNouns = []string{"Analytics", "Logistics", "Robotics", "Bakery", "Health", "Labs", "Studio", "Systems",
		"Media", "Foods", "Energy", "Finance", "Travel", "Works", "Software", "Clinics", "Retail", "Academy"}
	nameSuffixes = []string{"", "", "", " Ltd", " GmbH", " Inc", " AB", " SAS"}
	emailRoles   = []string{"ops", "billing", "admin", "it", "finance", "hello"}
	campaigns    = []string{"spring", "summer", "autumn", "winter", "launch", "referral", "partner", "webinar",
		"migration", "pilot", "loyalty", "beta", "retention", "upgrade", "holiday", "startup", "nonprofit", "education"}
)

// rng is splitmix64: tiny, allocation-free, and fixed by its definition, so
// output does not change with the Go version's math/rand.
type rng struct{ s uint64 }

// Streams keep the random choices of different parts independent.
const (
	streamCustomer uint64 = iota + 1
	streamPromotion
	streamGrants
	streamWeights
)

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG derives the generator of one object (index) of one stream, so any
// object can be generated alone, in any order, on any goroutine.
func newRNG(seed int64, stream, index uint64) rng {
	return rng{s: mix64(mix64(uint64(seed)^(stream*0x9e3779b97f4a7c15)) + index)}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a number in [0, n); n must be > 0.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance is true with probability percent/100.
func (r *rng) chance(percent int) bool { return r.intn(100) < percent }

func (r *rng) pick(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// subset returns a sorted random subset of [0, n) with 1 to max elements.
func (r *rng) subset(n, max int) []int {
	if max > n {
		max = n
	}
	size := 1 + r.intn(max)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < size; i++ {
		j := i + r.intn(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	out := perm[:size]
	slices.Sort(out)
	return out
}
