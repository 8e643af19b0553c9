package console

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// promoForm is the create and edit form: the values as typed, and a
// message per field.
type promoForm struct {
	ID, Name, Description       string
	FeatureType, Feature        string
	StartMode, StartDate        string // StartMode: now | date
	ExpiryMode, ExpiryDate      string // ExpiryMode: forever | date
	DurationOn                  bool
	DurationValue, DurationUnit string
	Mode, Allowance, Reset      string
	// Plans are the eligible plans checked; Conditions the attribute
	// conditions (a key and its allowed values, comma-separated).
	Plans      []string
	Conditions []condition
	Errors     map[string]string
	// General holds messages that belong to no field.
	General  []string
	Features []*promotions.Feature
	// AllPlans are the repo's plan keys, one checkbox each.
	AllPlans []string
	// Locked disables the strategic fields: the promotion is applied.
	Locked bool
}

// Form field names, also the keys of Errors.
const (
	fieldName        = "name"
	fieldDescription = "description"
	fieldFeatureType = "feature_type"
	fieldFeature     = "feature"
	fieldStart       = "start"
	fieldExpiry      = "expiry"
	fieldDuration    = "duration"
	fieldMode        = "mode"
	fieldAllowance   = "allowance"
	fieldReset       = "reset"
	fieldEligibility = "eligibility"
)

// condition is one attribute condition of the form: a key and the values
// allowed for it, as typed ("eu, us").
type condition struct {
	Key, Values string
}

// blankConditions is how many empty condition rows the form offers.
const blankConditions = 2

// ConditionRows are the conditions and empty rows to fill in.
func (f promoForm) ConditionRows() []condition {
	rows := append([]condition(nil), f.Conditions...)
	for range blankConditions {
		rows = append(rows, condition{})
	}
	return rows
}

// Checked reports whether plan is among the eligible plans.
func (f promoForm) Checked(plan string) bool { return slices.Contains(f.Plans, plan) }

func (f *promoForm) fail(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if _, taken := f.Errors[field]; !taken {
		f.Errors[field] = msg
	}
}

func (f *promoForm) ok() bool { return len(f.Errors) == 0 && len(f.General) == 0 }

// formOf fills the form from a promotion.
func formOf(p *promotions.Promotion) promoForm {
	f := promoForm{ID: p.ID, Name: p.Name, Description: p.Description, FeatureType: string(p.FeatureType), Feature: p.Feature,
		StartMode: "now", ExpiryMode: "forever", DurationUnit: string(promotions.UnitMonths), Mode: string(promotions.ModeAdditive), Reset: string(promotions.ResetMonthly)}
	if p.Window.Start != nil {
		f.StartMode, f.StartDate = "date", dateInput(*p.Window.Start)
	}
	if p.Window.End != nil {
		f.ExpiryMode, f.ExpiryDate = "date", dateInput(*p.Window.End)
	}
	if p.Duration != nil {
		f.DurationOn, f.DurationValue, f.DurationUnit = true, strconv.Itoa(p.Duration.Value), string(p.Duration.Unit)
	}
	if m := p.Metered; m != nil {
		f.Mode, f.Reset = string(m.Mode), string(m.Reset)
		f.Allowance = strconv.FormatInt(m.Allowance.Value, 10)
		if m.Allowance.Unlimited {
			f.Allowance = "unlimited"
		}
	}
	if e := p.Eligibility; e != nil {
		f.Plans = append([]string(nil), e.Plans...)
		for _, k := range promotions.SortedKeys(e.Attributes) {
			f.Conditions = append(f.Conditions, condition{Key: k, Values: strings.Join(e.Attributes[k], ", ")})
		}
	}
	return f
}

// dateInput is a date-time as the form's inputs show it: a date, with the
// time only when it is not midnight UTC.
func dateInput(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}

// readForm overwrites the form's values with those posted. A field absent
// from the post keeps its value: disabled (locked) inputs are not posted.
func (f *promoForm) read(post url.Values) {
	set := func(name string, dst *string) {
		if vs, ok := post[name]; ok && len(vs) > 0 {
			*dst = strings.TrimSpace(vs[0])
		}
	}
	set(fieldName, &f.Name)
	set(fieldDescription, &f.Description)
	set(fieldFeatureType, &f.FeatureType)
	set(fieldFeature, &f.Feature)
	set("start_mode", &f.StartMode)
	set("start_date", &f.StartDate)
	set("expiry_mode", &f.ExpiryMode)
	set("expiry_date", &f.ExpiryDate)
	if _, ok := post["duration_value"]; ok {
		f.DurationOn = post.Get("duration_on") != ""
	}
	set("duration_value", &f.DurationValue)
	set("duration_unit", &f.DurationUnit)
	set(fieldMode, &f.Mode)
	set(fieldAllowance, &f.Allowance)
	set(fieldReset, &f.Reset)
	// The eligibility inputs are posted only when the fieldset is enabled
	// (not locked); unchecked boxes post nothing, so a marker says that the
	// plans were part of the post.
	if post.Get("eligibility_form") != "" {
		f.Plans = nil
		for _, plan := range post["plan"] {
			if plan = strings.TrimSpace(plan); plan != "" && !slices.Contains(f.Plans, plan) {
				f.Plans = append(f.Plans, plan)
			}
		}
		f.Conditions = nil
		for i := 0; ; i++ {
			keys, ok := post["attr_key_"+strconv.Itoa(i)]
			if !ok || i > 50 {
				break
			}
			c := condition{Key: strings.TrimSpace(keys[0]), Values: strings.TrimSpace(post.Get("attr_values_" + strconv.Itoa(i)))}
			if c.Key != "" || c.Values != "" {
				f.Conditions = append(f.Conditions, c)
			}
		}
	}
}

// eligibility is the eligibility the form describes (nil: everyone),
// recording a message when a condition is half filled in.
func (f *promoForm) eligibility(m *promotions.Model) *promotions.Eligibility {
	e := &promotions.Eligibility{}
	for _, plan := range f.Plans {
		if _, ok := m.Plans[plan]; !ok {
			f.fail(fieldEligibility, "There is no plan "+plan+" in this repo.")
		}
		e.Plans = append(e.Plans, plan)
	}
	for _, c := range f.Conditions {
		var values []string
		for _, v := range strings.Split(c.Values, ",") {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		switch {
		case c.Key == "":
			f.fail(fieldEligibility, "Enter the attribute that must have the values "+c.Values+".")
			continue
		case len(values) == 0:
			f.fail(fieldEligibility, "Enter the values allowed for attribute "+c.Key+", separated by commas.")
			continue
		}
		if e.Attributes == nil {
			e.Attributes = map[string][]string{}
		}
		if _, dup := e.Attributes[c.Key]; dup {
			f.fail(fieldEligibility, "Attribute "+c.Key+" has two conditions: put all its allowed values in one.")
		}
		e.Attributes[c.Key] = values
	}
	if len(e.Plans) == 0 && len(e.Attributes) == 0 {
		return nil
	}
	return e
}

// promotion builds the promotion the form describes on top of p (a copy of
// the current one, or a new one), recording a message per bad field.
func (f *promoForm) promotion(p promotions.Promotion, m *promotions.Model) promotions.Promotion {
	if f.Name == "" {
		f.fail(fieldName, "Enter a name.")
	}
	p.Name, p.Description = f.Name, f.Description
	p.FeatureType = promotions.FeatureType(f.FeatureType)
	if p.FeatureType != promotions.FeatureBoolean && p.FeatureType != promotions.FeatureMetered {
		f.fail(fieldFeatureType, "Choose Boolean or Metered.")
	}
	p.Feature = f.Feature
	if feat, ok := m.Features[f.Feature]; !ok {
		f.fail(fieldFeature, "Choose a feature.")
	} else if feat.Type != p.FeatureType && f.Errors[fieldFeatureType] == "" {
		f.fail(fieldFeature, "Feature "+feat.Key+" is "+string(feat.Type)+", not "+f.FeatureType+".")
	}
	p.Window = promotions.Window{}
	if f.StartMode == "date" {
		t, err := parseDateInput(f.StartDate)
		if err != nil {
			f.fail(fieldStart, "Enter the start as a date (2026-03-01) or a date-time (2026-03-01T09:00:00Z).")
		}
		p.Window.Start = &t
	}
	if f.ExpiryMode == "date" {
		t, err := parseDateInput(f.ExpiryDate)
		if err != nil {
			f.fail(fieldExpiry, "Enter the expiry as a date (2026-06-01) or a date-time.")
		}
		p.Window.End = &t
	}
	if p.Window.Start != nil && p.Window.End != nil && f.Errors[fieldStart] == "" && f.Errors[fieldExpiry] == "" && !p.Window.End.After(*p.Window.Start) {
		f.fail(fieldExpiry, "The expiry must be after the start ("+formatDate(*p.Window.Start)+").")
	}
	p.Duration = nil
	if f.DurationOn {
		n, err := strconv.Atoi(f.DurationValue)
		unit := promotions.DurationUnit(f.DurationUnit)
		switch {
		case err != nil || n < 1:
			f.fail(fieldDuration, "Enter a whole number of at least 1.")
		case unit != promotions.UnitDays && unit != promotions.UnitWeeks && unit != promotions.UnitMonths && unit != promotions.UnitYears:
			f.fail(fieldDuration, "Choose days, weeks, months or years.")
		}
		p.Duration = &promotions.Duration{Value: n, Unit: unit}
	}
	p.Metered = nil
	if p.FeatureType == promotions.FeatureMetered {
		mt := &promotions.Metered{Mode: promotions.Mode(f.Mode), Reset: promotions.Reset(f.Reset)}
		if mt.Mode != promotions.ModeAdditive && mt.Mode != promotions.ModeOverride {
			f.fail(fieldMode, "Choose Additive or Override.")
		}
		switch mt.Reset {
		case promotions.ResetNever, promotions.ResetDaily, promotions.ResetWeekly, promotions.ResetMonthly, promotions.ResetYearly:
		default:
			f.fail(fieldReset, "Choose a reset interval.")
		}
		if strings.EqualFold(f.Allowance, "unlimited") {
			mt.Allowance = promotions.UnlimitedAllowance
		} else if n, err := strconv.ParseInt(strings.ReplaceAll(f.Allowance, ",", ""), 10, 64); err == nil && n >= 0 {
			mt.Allowance = promotions.Allowance{Value: n}
		} else {
			f.fail(fieldAllowance, "Enter a whole number of at least 0, or unlimited.")
		}
		p.Metered = mt
	}
	p.Eligibility = f.eligibility(m)
	return p
}

func parseDateInput(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return promotions.ParseTime(s)
}

// fieldLabels are the form's labels, by field: messages name fields as
// the operator sees them.
var fieldLabels = map[string]string{
	fieldName: "Name", fieldDescription: "Description", fieldFeatureType: "Feature type", fieldFeature: "Feature",
	fieldStart: "Start", fieldExpiry: "Expiry", fieldDuration: "Duration", fieldMode: "Application mode",
	fieldAllowance: "Included allowance", fieldReset: "Reset interval", fieldEligibility: "Eligibility",
}

// fieldOfPath maps a validation error's field path to the form field that
// shows it.
func fieldOfPath(path string) string {
	switch {
	case path == "name", path == "id":
		return fieldName
	case path == "description":
		return fieldDescription
	case path == "feature":
		return fieldFeature
	case path == "feature_type":
		return fieldFeatureType
	case path == "window.start":
		return fieldStart
	case strings.HasPrefix(path, "window"):
		return fieldExpiry
	case strings.HasPrefix(path, "duration"):
		return fieldDuration
	case path == "metered.mode":
		return fieldMode
	case path == "metered.allowance":
		return fieldAllowance
	case strings.HasPrefix(path, "metered"):
		return fieldReset
	case strings.HasPrefix(path, "eligibility"):
		return fieldEligibility
	}
	return ""
}

// place puts validation errors next to their fields; the rest are general.
func (f *promoForm) place(diags promotions.Diagnostics) {
	for _, d := range diags {
		field := fieldOfPath(d.Path.String())
		msg := sentence(d.Message) + " (" + string(d.Code) + ")"
		if d.Code == promotions.CodeLockedField && field != "" {
			msg = fieldLabels[field] + " cannot change: customers hold this promotion (it is applied). To change the policy, deactivate it and create a new promotion. (" + string(d.Code) + ")"
		}
		if field != "" {
			f.fail(field, msg)
		} else {
			f.General = append(f.General, d.String())
		}
	}
}

var slugRun = regexp.MustCompile(`[^a-z0-9]+`)

// slug derives a promotion id from its name.
func slug(name string) string {
	s := strings.Trim(slugRun.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}
