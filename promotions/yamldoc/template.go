package yamldoc

import (
	"fmt"
	"strings"

	"github.com/promoctl/promoctl/promotions"
)

// commentColumn is where the explanatory comments of a new promotion file
// start, so that they line up.
const commentColumn = 28

// RenderNewPromotion writes the file of a promotion that was never applied:
// keys in the key order of docs/rules.md, status active, is_applied false and no grants, with
// comments that tell the next reader what each block means and what the
// is_applied lock will freeze.
func RenderNewPromotion(p promotions.Promotion) ([]byte, error) {
	w := &templateWriter{}
	title := p.Name
	if title == "" {
		title = p.ID
	}
	w.comment("%s.", strings.TrimSuffix(title, "."))
	w.comment("Until the first grant sets is_applied to true, every field may change.")
	w.comment("From then on feature, window, duration, metered and eligibility are")
	w.comment("locked; name, description, status and grants stay editable, and grants")
	w.comment("are revoked rather than deleted.")
	w.field(0, "kind", promotions.KindPromotion, "")
	w.field(0, "id", p.ID, "")
	w.field(0, "name", title, "")
	if p.Description != "" {
		w.field(0, "description", p.Description, "")
	}
	w.field(0, "status", string(promotions.StatusActive), "active | deactivated")
	w.field(0, "feature", p.Feature, "")
	w.field(0, "feature_type", string(p.FeatureType), "must match the feature's type")

	switch {
	case p.Window.Start == nil && p.Window.End == nil:
		w.comment("No window: grants may be made at any time.")
	default:
		w.key(0, "window", "when grants may be made: [start, end)")
		if p.Window.Start != nil {
			w.field(2, "start", *p.Window.Start, "")
		} else {
			w.b.WriteString("  # No start: grants may be made right away.\n")
		}
		if p.Window.End != nil {
			w.field(2, "end", *p.Window.End, "")
		} else {
			w.b.WriteString("  # No end: grants may be made at any later time.\n")
		}
	}
	if p.Duration != nil {
		w.key(0, "duration", "how long each grant lasts")
		w.field(2, "value", p.Duration.Value, "")
		w.field(2, "unit", string(p.Duration.Unit), "days | weeks | months | years")
	} else {
		w.comment("No duration: each grant lasts until it is revoked.")
	}
	if m := p.Metered; m != nil {
		w.key(0, "metered", "")
		modeNote := "added on top of the plan's allowance"
		if m.Mode == promotions.ModeOverride {
			modeNote = "replaces the plan's allowance"
		}
		w.field(2, "mode", string(m.Mode), modeNote)
		if m.Allowance.Unlimited {
			w.field(2, "allowance", "unlimited", "")
		} else {
			w.field(2, "allowance", m.Allowance.Value, "")
		}
		w.field(2, "reset", string(m.Reset), "never | daily | weekly | monthly | yearly")
	}
	if el := p.Eligibility; el != nil && (len(el.Plans) > 0 || len(el.Attributes) > 0) {
		w.key(0, "eligibility", "every listed condition must hold")
		if len(el.Plans) > 0 {
			w.flowList(2, "plans", el.Plans)
		}
		if len(el.Attributes) > 0 {
			w.key(2, "attributes", "")
			for _, k := range promotions.SortedKeys(el.Attributes) {
				w.flowList(4, k, el.Attributes[k])
			}
		}
	} else {
		w.comment("No eligibility: every customer may be granted.")
	}
	w.field(0, "is_applied", false, "set by the first grant; never goes back")
	if w.err != nil {
		return nil, fmt.Errorf("render promotion %s: %w", p.ID, w.err)
	}
	return []byte(w.b.String()), nil
}

type templateWriter struct {
	b   strings.Builder
	err error
}

func (w *templateWriter) comment(format string, args ...any) {
	w.b.WriteString(strings.TrimRight("# "+fmt.Sprintf(format, args...), " ") + "\n")
}

func (w *templateWriter) line(text, note string) {
	if note != "" {
		pad := commentColumn - len(text)
		if pad < 1 {
			pad = 1
		}
		text += strings.Repeat(" ", pad) + "# " + note
	}
	w.b.WriteString(text + "\n")
}

func (w *templateWriter) key(indent int, key, note string) {
	w.line(strings.Repeat(" ", indent)+w.scalar(key)+":", note)
}

func (w *templateWriter) field(indent int, key string, value any, note string) {
	w.line(strings.Repeat(" ", indent)+w.scalar(key)+": "+w.scalar(value), note)
}

func (w *templateWriter) flowList(indent int, key string, items []string) {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = w.scalar(it)
		if strings.ContainsAny(parts[i], ",[]{}") && parts[i][0] != '"' {
			parts[i] = fmt.Sprintf("%q", it)
		}
	}
	w.line(strings.Repeat(" ", indent)+w.scalar(key)+": ["+strings.Join(parts, ", ")+"]", "")
}

func (w *templateWriter) scalar(v any) string {
	s, err := formatScalar(v, 0)
	if err != nil && w.err == nil {
		w.err = err
	}
	return s
}
