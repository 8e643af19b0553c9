// Package applyflow holds the apply-flow rules — what grant, revoke,
// regrant, deactivate and activate do to a promotion's grants — and
// expresses each change as a comment-preserving edit of the promotion's
// file, with a summary and the refusals (unknown, ineligible, outside the
// window) an operator reads.
package applyflow
