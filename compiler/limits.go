package compiler

import (
	"io/fs"

	"github.com/promoctl/promoctl/promotions"
)

// checkRepoSize adds up the sizes of a repo's config files, as the file
// system reports them, before any of them is read, and reports the first
// file at which the total passes lim.MaxRepoBytes. A repo over the limit
// must not be read at all: the diagnostic is then the load's only result.
// A file that cannot be stat'ed counts as empty here; reading it reports
// the error.
func checkRepoSize(fsys fs.FS, files []string, lim promotions.Limits) promotions.Diagnostics {
	var total int64
	for _, f := range files {
		info, err := fs.Stat(fsys, f)
		if err != nil {
			continue
		}
		total += info.Size()
		if d, over := promotions.CheckRepoSize(f, total, lim); over {
			return promotions.Diagnostics{d}
		}
	}
	return nil
}
