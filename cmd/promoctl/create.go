package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

type createFlags struct {
	feature, name, description string
	start, end, duration       string
	mode, allowance, reset     string
	plans, attrs               []string
	dryRun                     bool
}

func (a *app) createCommand() *cobra.Command {
	var fl createFlags
	cmd := &cobra.Command{
		Use:   "create ID --feature F",
		Short: "Write a new promotion file, promotions/<ID>.yaml (never applied, no grants)",
		Long: `Write promotions/<ID>.yaml for a new promotion. feature_type comes from the
feature; metered features need --allowance and --reset (--mode defaults to
additive), boolean features take none of them. The promotion starts with
is_applied: false and no grants, so every field may still be edited; the
first grant locks it. An existing file or promotion id is never overwritten.`,
		Example: `  promoctl create webinar-sso --feature sso --start 2026-05-01 --end 2026-08-01 --duration 60d \
    --eligible-plan starter --eligible-plan growth --eligible-attr region=eu
  promoctl create spring-api-boost --feature api_calls --allowance 50000 --reset monthly --duration 3mo`,
		Args: exactArgs(arg{"ID", "the id of the new promotion"}),
		RunE: func(cmd *cobra.Command, args []string) error { return a.create(args[0], &fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.feature, "feature", "", "feature key (required)")
	f.StringVar(&fl.name, "name", "", "display name (default: the id)")
	f.StringVar(&fl.description, "description", "", "description")
	f.StringVar(&fl.start, "start", "", "window start: an RFC 3339 instant, a date (its 00:00 UTC) or now (default: no lower bound)")
	f.StringVar(&fl.end, "end", "", "window end: an RFC 3339 instant or a date (its 00:00 UTC) (default: no end)")
	f.StringVar(&fl.duration, "duration", "", "how long each grant lasts: 90d, 3w, 2mo, 1y (default: until revoked)")
	f.StringVar(&fl.mode, "mode", "", "metered: additive (default) or override")
	f.StringVar(&fl.allowance, "allowance", "", "metered: an integer >= 0, or unlimited")
	f.StringVar(&fl.reset, "reset", "", "metered: never, daily, weekly, monthly or yearly")
	f.StringArrayVar(&fl.plans, "eligible-plan", nil, "only customers on this plan (repeatable)")
	f.StringArrayVar(&fl.attrs, "eligible-attr", nil, "only customers whose attribute k is one of v1,v2: k=v1,v2 (repeatable)")
	f.BoolVar(&fl.dryRun, "dry-run", false, "print the new file as a diff instead of writing it")
	a.lockFlag(cmd)
	return a.readsRepo(cmd)
}

func (a *app) create(id string, fl *createFlags) error {
	if !promotions.ValidKey(id) {
		return usageError("promotion id %q must match [a-z0-9][a-z0-9_.-]{0,63}", id)
	}
	if fl.feature == "" {
		return usageError("create needs --feature")
	}
	p := promotions.Promotion{ID: id, Name: fl.name, Description: fl.description, Feature: fl.feature,
		Status: promotions.StatusActive}
	if fl.start != "" {
		t, err := parseTimeFlag("start", fl.start, nowWholeSeconds)
		if err != nil {
			return err
		}
		p.Window.Start = &t
	}
	if fl.end != "" {
		t, err := parseTimeFlag("end", fl.end, nowExact)
		if err != nil {
			return err
		}
		p.Window.End = &t
	}
	if p.Window.Start != nil && p.Window.End != nil && !p.Window.End.After(*p.Window.Start) {
		return usageError("--end %s must be after --start %s", promotions.FormatTime(*p.Window.End), promotions.FormatTime(*p.Window.Start))
	}
	if fl.duration != "" {
		d, err := parseDurationFlag(fl.duration)
		if err != nil {
			return err
		}
		p.Duration = &d
	}
	if len(fl.plans) > 0 || len(fl.attrs) > 0 {
		el, err := eligibilityFlags(fl.plans, fl.attrs)
		if err != nil {
			return err
		}
		p.Eligibility = el
	}

	s, err := a.openRepoForEdit(fl.dryRun)
	if err != nil {
		return err
	}
	defer s.Close()
	feature, ok := s.Model().Features[fl.feature]
	if !ok {
		return usageError("--feature %q names no feature of the repo (known: %s)", fl.feature, strings.Join(promotions.SortedKeys(s.Model().Features), ", "))
	}
	p.FeatureType = feature.Type
	if err := meteredFlags(&p, fl); err != nil {
		return err
	}
	change, err := s.Create(p)
	var exists *applyflow.ExistsError
	if errors.As(err, &exists) {
		return &exitError{code: exitValidation, err: fmt.Errorf("refused: %w", err)}
	}
	if err := a.checked(err); err != nil {
		return err
	}
	if err := a.write(s, change, fl.dryRun); err != nil {
		return err
	}
	file := change.File
	summary := fmt.Sprintf("created %s (%s, %s, is_applied: false)", file, p.Feature, p.FeatureType)
	if fl.dryRun {
		summary += " (dry run: nothing written)"
	}
	fmt.Fprintln(a.stdout, summary)
	return nil
}

// meteredFlags fills the metered block from the flags, which only a
// metered feature accepts.
func meteredFlags(p *promotions.Promotion, fl *createFlags) error {
	given := fl.mode != "" || fl.allowance != "" || fl.reset != ""
	if p.FeatureType != promotions.FeatureMetered {
		if given {
			return usageError("feature %s is %s: --mode, --allowance and --reset apply to metered features only", p.Feature, p.FeatureType)
		}
		return nil
	}
	if fl.allowance == "" || fl.reset == "" {
		return usageError("feature %s is metered: --allowance and --reset are required", p.Feature)
	}
	m := &promotions.Metered{Mode: promotions.ModeAdditive, Reset: promotions.Reset(fl.reset)}
	if fl.mode != "" {
		m.Mode = promotions.Mode(fl.mode)
	}
	if m.Mode != promotions.ModeAdditive && m.Mode != promotions.ModeOverride {
		return usageError("--mode must be additive or override, not %q", fl.mode)
	}
	switch m.Reset {
	case promotions.ResetNever, promotions.ResetDaily, promotions.ResetWeekly, promotions.ResetMonthly, promotions.ResetYearly:
	default:
		return usageError("--reset must be never, daily, weekly, monthly or yearly, not %q", fl.reset)
	}
	if fl.allowance == "unlimited" {
		m.Allowance = promotions.UnlimitedAllowance
	} else {
		n, err := strconv.ParseInt(fl.allowance, 10, 64)
		if err != nil || n < 0 {
			return usageError("--allowance must be an integer >= 0 or unlimited, not %q", fl.allowance)
		}
		m.Allowance = promotions.Allowance{Value: n}
	}
	p.Metered = m
	return nil
}

var durationFlag = regexp.MustCompile(`^([0-9]+)\s*(d|days?|w|weeks?|mo|months?|y|years?)$`)

// parseDurationFlag reads 90d, 3w, 2mo or 1y (or the unit spelled out).
// A bare "m" is refused: it could mean minutes or months.
func parseDurationFlag(s string) (promotions.Duration, error) {
	m := durationFlag.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return promotions.Duration{}, usageError("--duration %q: expected a count and a unit, such as 90d, 3w, 2mo or 1y", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return promotions.Duration{}, usageError("--duration %q: the count must be an integer >= 1", s)
	}
	unit := map[byte]promotions.DurationUnit{'d': promotions.UnitDays, 'w': promotions.UnitWeeks,
		'm': promotions.UnitMonths, 'y': promotions.UnitYears}[m[2][0]]
	return promotions.Duration{Value: n, Unit: unit}, nil
}

// eligibilityFlags reads --eligible-plan and --eligible-attr k=v1,v2.
func eligibilityFlags(plans, attrs []string) (*promotions.Eligibility, error) {
	el := &promotions.Eligibility{}
	seen := map[string]bool{}
	for _, p := range plans {
		for _, v := range strings.Split(p, ",") {
			if v = strings.TrimSpace(v); v != "" && !seen[v] {
				seen[v] = true
				el.Plans = append(el.Plans, v)
			}
		}
	}
	for _, kv := range attrs {
		k, vs, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.TrimSpace(vs) == "" {
			return nil, usageError("--eligible-attr %q: expected key=value1,value2", kv)
		}
		if el.Attributes == nil {
			el.Attributes = map[string][]string{}
		}
		for _, v := range strings.Split(vs, ",") {
			if v = strings.TrimSpace(v); v != "" {
				el.Attributes[k] = append(el.Attributes[k], v)
			}
		}
	}
	return el, nil
}
