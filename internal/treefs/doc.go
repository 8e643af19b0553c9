// Package treefs serves trees that are not a plain directory as an
// fs.FS: a git tree at a revision (read with go-git, no git binary), and
// an overlay of in-memory files over another file system (the repo as an
// edit would leave it, validated before anything is written). Both hand
// out the same in-memory file and directory types.
package treefs
