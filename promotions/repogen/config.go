package repogen

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The hot customers of every generated repo (see the package doc).
const (
	HotFeature    = "api_calls"
	HotPlan       = "growth"
	HotCustomer1  = "cus_hot1"
	HotCustomer10 = "cus_hot10"
	HotCustomer50 = "cus_hot50"
	// HotAtRFC3339 is the query time at which the hot counts hold.
	HotAtRFC3339 = "2026-04-15T12:00:00Z"
	// HotPromotions is how many promotions the hot customers draw on; a
	// repo needs at least this many promotions.
	HotPromotions = 50
)

// HotAt is HotAtRFC3339 as a time.
var HotAt = time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC)

// HotPromotionID names the k-th hot promotion, 1 <= k <= HotPromotions.
// HotCustomerN holds hot promotions 1…N.
func HotPromotionID(k int) string { return fmt.Sprintf("hot-api-boost-%02d", k) }

// HotCustomer is a benchmark customer with a known number of contributing
// HotFeature promotions at HotAt.
type HotCustomer struct {
	ID           string
	Contributing int
}

// hotCustomers are listed first in the first customers file.
var hotCustomers = []HotCustomer{
	{HotCustomer1, 1},
	{HotCustomer10, 10},
	{HotCustomer50, HotPromotions},
}

// HotCustomers lists the hot customers, for benchmarks that measure each.
func HotCustomers() []HotCustomer { return slices.Clone(hotCustomers) }

// Config sizes a generated repo.
type Config struct {
	Features  int // at least 2; the first is always HotFeature
	Plans     int // 3 to 5
	Customers int // directory entries, the hot customers included
	// CustomersPerFile splits the directory; 0 means 10,000.
	CustomersPerFile int
	Promotions       int // at least HotPromotions
	// Grants is the number of grants.customers entries over all promotions.
	// It is met exactly unless eligibility leaves too few customers.
	Grants int
	Seed   int64
	// Now is the instant grants are spread up to; zero means HotAt.
	// Timestamps are truncated to the minute.
	Now time.Time
}

// Presets by size name (BENCHMARKS.md). S has the example repo's features, plans
// and customers, plus the hot promotions every preset needs.
var (
	Tiny = Config{Features: 6, Plans: 3, Customers: 200, CustomersPerFile: 50, Promotions: 64, Grants: 400}
	S    = Config{Features: 6, Plans: 3, Customers: 26, CustomersPerFile: 13, Promotions: 60, Grants: 120}
	M    = Config{Features: 20, Plans: 4, Customers: 100_000, CustomersPerFile: 10_000, Promotions: 1_000, Grants: 100_000}
	L    = Config{Features: 40, Plans: 5, Customers: 1_000_000, CustomersPerFile: 10_000, Promotions: 10_000, Grants: 1_000_000}
)

var presets = map[string]Config{"tiny": Tiny, "s": S, "m": M, "l": L}

// Preset returns the preset of a size name (tiny, S, M, L; any case).
func Preset(name string) (Config, bool) {
	c, ok := presets[strings.ToLower(name)]
	return c, ok
}

// PresetNames lists the size names Preset accepts.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c Config) normalized() (Config, error) {
	if c.CustomersPerFile == 0 {
		c.CustomersPerFile = 10_000
	}
	if c.Now.IsZero() {
		c.Now = HotAt
	}
	c.Now = c.Now.UTC().Truncate(time.Minute)
	switch {
	case c.Features < 2:
		return c, fmt.Errorf("features: need at least 2 (one of each type), got %d", c.Features)
	case c.Plans < 3 || c.Plans > len(planLadder):
		return c, fmt.Errorf("plans: need 3 to %d, got %d", len(planLadder), c.Plans)
	case c.Customers < len(hotCustomers):
		return c, fmt.Errorf("customers: need at least %d (the hot customers), got %d", len(hotCustomers), c.Customers)
	case c.CustomersPerFile < 1:
		return c, fmt.Errorf("customers per file: need at least 1, got %d", c.CustomersPerFile)
	case c.Promotions < HotPromotions:
		return c, fmt.Errorf("promotions: need at least %d (the hot promotions), got %d", HotPromotions, c.Promotions)
	case c.Grants < 0:
		return c, fmt.Errorf("grants: need at least 0, got %d", c.Grants)
	}
	return c, nil
}
