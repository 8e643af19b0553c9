package compiler

import (
	"crypto/sha256"
	"fmt"
	"io/fs"

	"github.com/promoctl/promoctl/promotions"
)

// ContentHash computes Result.ContentHash of the repo in fsys without parsing
// anything — what a sidecar compares with a cached bundle before deciding
// whether it may skip the load — and the total size of the config files.
// A file over the limits is an error: such a repo never loads.
func ContentHash(fsys fs.FS, lim promotions.Limits) (string, int64, error) {
	if lim == (promotions.Limits{}) {
		lim = promotions.DefaultLimits
	}
	tree, err := scanTree(fsys)
	if err != nil {
		return "", 0, err
	}
	if len(tree.unsafe) > 0 {
		return "", 0, tree.unsafe[0]
	}
	results := make(map[string]*fileResult, len(tree.files))
	var total int64
	for _, f := range tree.files {
		src, _, err := readConfigFile(fsys, f, lim.MaxFileBytes)
		if err != nil {
			return "", 0, fmt.Errorf("read %s: %w", f, err)
		}
		if total += int64(len(src)); total > lim.MaxRepoBytes {
			return "", 0, fmt.Errorf("the config files are over the repo size limit")
		}
		results[f] = &fileResult{hash: sha256.Sum256(src)}
	}
	return hashContent(tree.files, results, nil), total, nil
}
