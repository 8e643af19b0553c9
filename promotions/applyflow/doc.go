// Package applyflow is the one home of the editing verbs — grant, revoke,
// regrant, deactivate and activate — for the CLI and the console alike:
// each is one call on a Session with typed options, returning a Result
// that carries the summary, the refusals an operator reads (unknown,
// ineligible, outside the window) and the commit message, and the change
// as a comment-preserving edit of the promotion's file, validated with the
// rest of the repo through a Validator the compiler satisfies. Callers
// only parse input, write the change (Disk, or a commit) and render.
package applyflow
