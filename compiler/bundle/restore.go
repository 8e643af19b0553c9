package bundle

import "github.com/promoctl/promoctl/compiler/snapshot"

// Snapshot builds the serving snapshot of a decoded bundle under the given
// revision (normally Header.Revision). The bundle holds customers and
// promotions in id order, so nothing is sorted again.
func (b *Bundle) Snapshot(revision string) (*snapshot.Snapshot, error) {
	return snapshot.BuildOrdered(b.Model, revision, snapshot.Ordered{Customers: b.customers, Promotions: b.promotions})
}
