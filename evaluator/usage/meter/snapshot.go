package meter

import (
	"errors"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/promotions"
)

// ErrNotReady is a layout asked of a source that has no snapshot yet.
var ErrNotReady = errors.New("no valid snapshot loaded yet")

// SnapshotSource computes layouts by deciding over the snapshot it returns
// (the sidecar's serving snapshot, the provider's): the buckets of the
// decision, and those an override replaces as suspended.
type SnapshotSource func() *snapshot.Snapshot

// Layout decides q at at and turns its buckets into usage buckets.
func (f SnapshotSource) Layout(q Query, at time.Time) (Layout, error) {
	snap := f()
	if snap == nil {
		return Layout{}, ErrNotReady
	}
	row := snap.Read().Feature(q.Feature)
	if row == nil {
		return Layout{}, evaluator.ErrFeatureNotFound
	}
	if row.Type != promotions.FeatureMetered {
		return Layout{}, ErrNotMetered
	}
	d, err := evaluator.Decide(snap, evaluator.Query{Customer: q.Customer, Feature: q.Feature, At: at, Plan: q.Plan, Attributes: q.Attributes})
	if err != nil {
		return Layout{}, err
	}
	lay := Layout{
		Buckets:  make([]usage.Bucket, 0, len(d.Buckets)+len(d.Replaced)),
		Info:     make([]BucketInfo, 0, len(d.Buckets)+len(d.Replaced)),
		Policy:   row.Usage,
		Revision: snap.Revision,
	}
	add := func(b *evaluator.Bucket, suspended bool) {
		lay.Buckets = append(lay.Buckets, usage.Bucket{
			ID:          CounterID(b),
			Allowance:   b.Source.Allowance.Value,
			Unlimited:   b.Source.Allowance.Unlimited,
			PeriodStart: b.Period.StartTime(),
			PeriodEnd:   b.Period.EndTime(),
			Order:       b.Order,
			Suspended:   suspended,
			SuspendedBy: b.ReplacedBy,
		})
		lay.Info = append(lay.Info, BucketInfo{Source: b.SourceID(), Kind: string(b.Source.Kind), Mode: string(b.Source.Mode), Reset: string(b.Reset())})
	}
	for i := range d.Buckets {
		add(&d.Buckets[i], false)
	}
	for i := range d.Replaced {
		add(&d.Replaced[i], true)
	}
	return lay, nil
}

// CounterID is the id of a bucket's counters: a promotion bucket's source
// id; for the plan, "plan:<reset>", keyed by reset rather than plan so that
// usage carries over a plan change within a period.
func CounterID(b *evaluator.Bucket) string {
	if b.Source.Kind == evaluator.SourcePlan {
		return "plan:" + string(b.Reset())
	}
	return b.SourceID()
}
