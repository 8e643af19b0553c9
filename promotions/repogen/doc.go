// Package repogen writes synthetic config repos for `promoctl gen`, the
// benchmarks and load tests: features of both types, 3–5 plans, a customer
// directory split over many files, promotions of every shape (additive,
// override, unlimited, boolean, with and without durations, eligibility by
// plans and attributes, grants.all with revoked exceptions, deactivated
// ones, drafts) and grants spread the way real repos spread them: most
// customers hold 0–3 promotions, a few hold 10 or more.
//
// Output is a pure function of the Config: the same seed gives byte-identical
// files on the same platform, whatever the number of CPUs. Every generated
// repo passes `promoctl validate`.
//
// Every preset also contains three "hot" customers whose answers are known
// in advance, for latency benchmarks: at HotAt, for the metered feature
// HotFeature, HotCustomer1, HotCustomer10 and HotCustomer50 have exactly 1,
// 10 and 50 contributing promotions (HotPromotionID(1) … HotPromotionID(50),
// all customer grants; they opted out of every grants.all promotion of that
// feature). They are on plan HotPlan with attributes region=eu and
// segment=midmarket.
package repogen
