// Package gitstore is the console's git layer: it reads branches of the
// config repo's git repository and makes commits on branches of its own
// without a work tree — changed blobs and the trees above them are written
// as objects, a commit is created on top of the branch's tip and the
// branch ref is moved with a compare-and-swap. The checkout's working tree,
// its index and the branch it has checked out are never touched. It also
// fetches the base branch from a remote, pushes the console's branches and
// builds the link that opens a pull request on GitHub or GitLab.
package gitstore
