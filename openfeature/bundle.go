package openfeature

import (
	"path/filepath"
	"time"

	bundlesource "github.com/promoctl/promoctl/evaluator/source/bundle"
)

// BundleOptions say what a bundle must be (signed by a key, at most a
// size) and where a downloaded one is cached; see evaluator/source/bundle.
type BundleOptions = bundlesource.Options

// DefaultBundlePoll is how often a bundle URL is polled when Options.Poll
// is not set, as `promoctl serve --bundle URL` does.
const DefaultBundlePoll = 10 * time.Second

// NewBundle returns a provider that decides from a bundle (`promoctl
// build`): a file, watched through its directory so that a publish by
// rename or link swap is seen, or an http(s) URL, polled with
// If-None-Match every opts.Poll (DefaultBundlePoll). A bundle that is
// truncated, altered, oversized or not signed by bundle.Key is refused and
// the last good one keeps answering, as in the sidecar.
func NewBundle(location string, bundle BundleOptions, opts Options) *Provider {
	if bundle.Log == nil {
		bundle.Log = opts.Log
	}
	switch {
	case bundlesource.IsURL(location):
		if opts.Poll <= 0 {
			opts.Poll = DefaultBundlePoll
		}
	case opts.Watch == "":
		opts.Watch = filepath.Dir(location)
	}
	return New(bundlesource.New(location, bundle), opts)
}
