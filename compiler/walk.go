package compiler

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// ConfigFiles lists the YAML files of a repo in lexical order. Directories
// whose name starts with a dot (.git, and the ..data / ..2026_… directories
// of Kubernetes ConfigMap volumes) are skipped; symlinks to directories are
// followed, which is how ConfigMap volumes expose their files, with a depth
// bound so that a symlink loop cannot run forever.
func ConfigFiles(fsys fs.FS) ([]string, error) {
	var files []string
	if err := walk(fsys, ".", 0, &files); err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

const maxWalkDepth = 32

func walk(fsys fs.FS, dir string, depth int, files *[]string) error {
	if depth > maxWalkDepth {
		return fmt.Errorf("walk %s: directories nested deeper than %d (symlink loop?)", dir, maxWalkDepth)
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := path.Join(dir, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			info, err := fs.Stat(fsys, p)
			if err != nil {
				continue // dangling link: nothing to load
			}
			isDir = info.IsDir()
		}
		if isDir {
			if err := walk(fsys, p, depth+1, files); err != nil {
				return err
			}
			continue
		}
		if IsConfigFile(name) {
			*files = append(*files, p)
		}
	}
	return nil
}

// IsConfigFile reports whether a file name is a YAML config file.
func IsConfigFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}
