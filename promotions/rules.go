package promotions

import (
	"regexp"
	"strings"
)

// The shape of every config file is defined once, in the CUE schema
// (schema/*.cue). Go keeps copies of the few rules that code needs outside
// validation — to check a flag before loading anything, or to write a
// file in the right order — and schema's tests hold every copy here equal
// to the CUE definitions (TestGoCopiesAgreeWithCUE).

// KeyPattern is the charset of feature keys, plan keys and promotion ids.
const KeyPattern = `^[a-z0-9][a-z0-9_.-]{0,63}$`

// CustomerIDPattern is the charset of customer ids.
const CustomerIDPattern = `^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$`

var (
	keyRE        = regexp.MustCompile(KeyPattern)
	customerIDRE = regexp.MustCompile(CustomerIDPattern)
)

// ValidKey reports whether s may be a feature key, plan key or promotion id.
func ValidKey(s string) bool { return keyRE.MatchString(s) }

// ValidCustomerID reports whether s may be a customer id.
func ValidCustomerID(s string) bool { return customerIDRE.MatchString(s) }

// DefaultStatus is a promotion's status when its file has none.
const DefaultStatus = StatusActive

// promotionKeyOrder is the order in which a promotion file's keys are
// written (by create, and by edits that add a key), for each mapping of
// the file: by path, with "[]" for a list item.
var promotionKeyOrder = map[string][]string{
	"": {"kind", "id", "name", "description", "status", "deactivated_at", "feature", "feature_type",
		"window", "duration", "metered", "eligibility", "is_applied", "grants"},
	"window":                        {"start", "end"},
	"duration":                      {"value", "unit"},
	"metered":                       {"mode", "allowance", "reset"},
	"eligibility":                   {"plans", "attributes"},
	"grants":                        {"all", "customers"},
	"grants.all":                    {"granted_at", "revoked_at", "previous"},
	"grants.all.previous[]":         {"granted_at", "revoked_at"},
	"grants.customers[]":            {"id", "state", "granted_at", "revoked_at", "previous"},
	"grants.customers[].previous[]": {"granted_at", "revoked_at"},
}

// PromotionKeyOrder returns the order of the keys of the mapping at path in
// a promotion file (nil for a mapping whose keys are free, such as
// eligibility.attributes).
func PromotionKeyOrder(path Path) []string { return promotionKeyOrder[mappingName(path)] }

// PromotionMappings lists the paths of a promotion's mappings with a fixed
// key order, in the "grants.customers[]" form.
func PromotionMappings() []string { return SortedKeys(promotionKeyOrder) }

// PromotionKeyOrderAt is PromotionKeyOrder for a path in the form
// PromotionMappings returns.
func PromotionKeyOrderAt(name string) []string { return promotionKeyOrder[name] }

func mappingName(path Path) string {
	var b strings.Builder
	for _, el := range path {
		if el.IsIndex {
			b.WriteString("[]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(el.Key)
	}
	return b.String()
}
