// Package reposource lets the in-process provider (package openfeature)
// decide from a config repo directory: it loads and validates the YAML
// exactly as `promoctl serve --repo` does, and watches the directory. It
// is a package of its own because it brings the YAML parser and CUE into
// the service that imports it; a service that reads bundles does without.
package reposource

import (
	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/promotions"
)

// New returns a provider that decides from the repo at dir. The directory
// is watched for changes unless opts.Watch names another path; opts.Poll
// adds a periodic rescan for file systems without file events.
func New(dir string, opts openfeature.Options) *openfeature.Provider {
	if opts.Watch == "" {
		opts.Watch = dir
	}
	return openfeature.New(Loader(dir, opts), opts)
}

// Loader is the repo loader New uses, for callers that wire a provider
// themselves. Limits are the defaults of every promoctl command.
func Loader(dir string, opts openfeature.Options) *repo.Loader {
	return repo.NewLoader(dir, promotions.Limits{}, opts.Log)
}
