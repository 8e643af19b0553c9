package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/promoctl/promoctl/promotions"
)

// limitFlags names the flag that sets each limit.
var limitFlags = map[promotions.Limit]string{
	promotions.LimitFileBytes:  "max-file-size",
	promotions.LimitRepoBytes:  "max-repo-size",
	promotions.LimitDepth:      "max-depth",
	promotions.LimitAliasNodes: "max-alias-nodes",
	promotions.LimitGrants:     "max-grants",
}

// addLimitFlags binds the loader's limits to flags of a command that reads
// the repo, marked so that help shows them in a section of their own.
func addLimitFlags(f *pflag.FlagSet, lim *promotions.Limits) {
	limit := func(v pflag.Value, l promotions.Limit, usage string) {
		f.Var(v, limitFlags[l], usage)
		_ = f.SetAnnotation(limitFlags[l], limitFlagAnnotation, []string{"true"})
	}
	limit((*byteSize)(&lim.MaxFileBytes), promotions.LimitFileBytes, "largest config file accepted (bytes, or with KiB, MiB, GiB)")
	limit((*byteSize)(&lim.MaxRepoBytes), promotions.LimitRepoBytes, "largest total of all config files (bytes, or with KiB, MiB, GiB)")
	limit((*positiveInt)(&lim.MaxDepth), promotions.LimitDepth, "deepest nesting of YAML mappings and lists")
	limit((*positiveInt)(&lim.MaxAliasNodes), promotions.LimitAliasNodes, "most YAML nodes that aliases may expand to, per file")
	limit((*positiveInt)(&lim.MaxGrants), promotions.LimitGrants, "most entries in one promotion's grants.customers")
}

// withLimitHints says, on each diagnostic that reports a limit passed,
// which flag raises it (the library's messages name no flags).
func withLimitHints(diags promotions.Diagnostics) promotions.Diagnostics {
	var out promotions.Diagnostics
	for i, d := range diags {
		flag, ok := limitFlags[d.Limit]
		if !ok {
			continue
		}
		if out == nil {
			out = append(promotions.Diagnostics(nil), diags...)
		}
		out[i].Message += " (raise it with --" + flag + ")"
	}
	if out == nil {
		return diags
	}
	return out
}

// byteSize is a flag holding a size such as 1048576, 512KiB or 32MiB.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"k", 1 << 10}, {"B", 1},
}

func (b *byteSize) Set(s string) error {
	num, factor := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/factor {
		return fmt.Errorf("%q is not a positive size such as 1048576, 512KiB or 32MiB", s)
	}
	*b = byteSize(n * factor)
	return nil
}

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range sizeUnits[:3] {
		if n >= u.factor && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Type() string { return "size" }

// positiveInt is an int flag that must be at least 1: a limit of 0 would
// reject every file.
type positiveInt int

func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a positive integer", s)
	}
	*p = positiveInt(n)
	return nil
}

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Type() string { return "int" }
