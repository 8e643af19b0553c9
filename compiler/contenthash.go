package compiler

import (
	"crypto/sha256"
	"fmt"
	"io/fs"

	"github.com/promoctl/promoctl/promotions"
)

// ContentHash computes Result.Revision of the repo in fsys without parsing
// anything — what a sidecar compares with a cached bundle before deciding
// whether it may skip the load — and the total size of the config files.
// A file over the limits is an error: such a repo never loads.
func ContentHash(fsys fs.FS, lim promotions.Limits) (string, int64, error) {
	if lim == (promotions.Limits{}) {
		lim = promotions.DefaultLimits
	}
	files, err := ConfigFiles(fsys)
	if err != nil {
		return "", 0, err
	}
	results := make(map[string]*fileResult, len(files))
	var total int64
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return "", 0, fmt.Errorf("read %s: %w", f, err)
		}
		if int64(len(src)) > lim.MaxFileBytes {
			return "", 0, fmt.Errorf("%s is over the file size limit", f)
		}
		if total += int64(len(src)); total > lim.MaxRepoBytes {
			return "", 0, fmt.Errorf("the config files are over the repo size limit")
		}
		results[f] = &fileResult{hash: sha256.Sum256(src)}
	}
	return revision(files, results), total, nil
}
