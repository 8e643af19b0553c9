package suggest

import (
	"sort"
	"strings"
)

// MaxSuggestions is how many names a message offers at most.
const MaxSuggestions = 3

// Closest returns up to MaxSuggestions of known, nearest to name first:
// names within an edit distance of a third of their length (at least 2),
// and names that contain name or that name contains. Ties keep known's
// order.
func Closest(name string, known []string) []string {
	type scored struct {
		name string
		dist int
	}
	lower := strings.ToLower(name)
	var out []scored
	for _, k := range known {
		kl := strings.ToLower(k)
		d := Distance(lower, kl)
		limit := max(2, len(kl)/3)
		if d <= limit || (len(lower) >= 3 && (strings.Contains(kl, lower) || strings.Contains(lower, kl))) {
			out = append(out, scored{k, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].dist < out[j].dist })
	names := make([]string, 0, min(len(out), MaxSuggestions))
	for _, s := range out[:min(len(out), MaxSuggestions)] {
		names = append(names, s.name)
	}
	return names
}

// DidYouMean renders suggestions for the end of a message: "; did you mean
// growth?" or "; did you mean growth or starter?"; empty without any.
func DidYouMean(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "; did you mean " + names[0] + "?"
	}
	return "; did you mean " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + "?"
}

// InParentheses renders suggestions after a name in a usage message:
// " (did you mean --customers?)" with prefix "--" for flags, or
// " (did you mean spring-api-boost, sso-for-growth?)" for ids; empty
// without any.
func InParentheses(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (did you mean " + prefix + strings.Join(names, ", "+prefix) + "?)"
}

// Distance is the Levenshtein distance between a and b, by bytes: keys
// and ids are ASCII.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
