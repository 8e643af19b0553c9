package console

import (
	"context"
	"fmt"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/promotions"
)

// usageData is what the customer page shows of the usage store: one
// answer per metered feature, or why there is none. Metered is false when
// no decision is metered and the page says nothing about usage.
type usageData struct {
	Metered    bool
	Configured bool
	Error      string
	Answers    []meter.UsageAnswer
}

// readUsage reads each metered feature's buckets with their usage at the
// page's instant. A store that cannot be opened or read leaves a sentence
// and the rest of the page intact: the decisions do not depend on it.
func (s *Server) readUsage(ctx context.Context, snap *snapshot.Snapshot, id string, v evaluator.CustomerView) usageData {
	var features []string
	for _, d := range v.Decisions {
		if d.FeatureType == promotions.FeatureMetered {
			features = append(features, d.Feature)
		}
	}
	u := usageData{Metered: len(features) > 0, Configured: s.opts.Usage != nil}
	if !u.Metered || !u.Configured {
		return u
	}
	client, closeClient, err := s.opts.Usage(snap)
	if err != nil {
		u.Error = fmt.Sprintf("The usage store cannot be opened: %v", err)
		return u
	}
	defer closeClient()
	for _, f := range features {
		a, err := client.Usage(ctx, meter.Query{Customer: id, Feature: f}, v.At)
		if err != nil {
			u.Error = fmt.Sprintf("The usage store cannot be read (%s): %v", f, err)
			u.Answers = nil
			return u
		}
		u.Answers = append(u.Answers, a)
	}
	return u
}
