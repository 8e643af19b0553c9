// Package safetext renders names that git and file systems allow but
// terminals, logs and markdown interpret — control characters (escape
// sequences), newlines, invalid UTF-8, markdown syntax — so that printing
// a file name shows it instead of acting on the reader's screen or review.
package safetext
