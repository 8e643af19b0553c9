package bundle

import (
	"errors"
	"fmt"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
)

// FormatVersion is the version of the binary layout this package writes and
// reads. Any change to the layout increments it; a reader refuses every
// other version rather than guess. Version 3 added features' usage policy,
// version 4 customers' billing_anchor, version 5 the build time.
const FormatVersion = 5

// magic opens every bundle. The high byte and the line endings make a
// bundle mangled by a text transfer fail at once, as in PNG.
var magic = [8]byte{0x89, 'P', 'R', 'B', '\r', '\n', 0x1a, '\n'}

// Layout sizes.
const (
	prefixSize    = len(magic) + 2 + 2 + 4 // magic, version, flags, header length
	hashSize      = 32
	sigMagic      = "SIG1"
	keyIDSize     = 32
	sigBlockSize  = len(sigMagic) + keyIDSize + 64
	maxHeaderSize = 1 << 20
)

// DefaultMaxSize bounds a bundle a reader accepts when nothing else is set.
const DefaultMaxSize int64 = 1 << 30

// Header describes a bundle. It is stored in front of the content and
// covered by the bundle's hash.
type Header struct {
	FormatVersion int
	// Promoctl is the version of the promoctl that built the bundle.
	Promoctl string
	// Revision names the content: the git commit when the config files
	// equal the commit's, else ContentHash.
	Revision    string
	Commit      string
	Dirty       bool
	ContentHash string
	// CommitTime is the commit's time (zero without a commit).
	CommitTime time.Time
	// BuildTime is when the bundle was built (zero when unknown). With
	// CommitTime it orders bundles, so that a sidecar can refuse to roll
	// back; a reproducible build fixes it (promoctl build reads
	// SOURCE_DATE_EPOCH) to get the same bytes from the same repo.
	BuildTime time.Time
	Counts    snapshot.Counts
	// SourceBytes is the size of the YAML files the bundle was built from.
	SourceBytes int64
}

// Problem names why a bundle was refused.
type Problem string

// Every reason a bundle is refused.
const (
	NotABundle   Problem = "not a bundle"
	Truncated    Problem = "truncated"
	Altered      Problem = "altered"
	Oversized    Problem = "oversized"
	OtherFormat  Problem = "other format version"
	Unsigned     Problem = "unsigned"
	WrongKey     Problem = "wrong key"
	BadSignature Problem = "bad signature"
	Malformed    Problem = "malformed"
)

// Refusal is the error of a bundle that must not be served.
type Refusal struct {
	Problem Problem
	Detail  string
}

func (r *Refusal) Error() string { return fmt.Sprintf("bundle refused (%s): %s", r.Problem, r.Detail) }

func refuse(p Problem, format string, args ...any) *Refusal {
	return &Refusal{Problem: p, Detail: fmt.Sprintf(format, args...)}
}

// ProblemOf returns the Problem of a refusal, or "" for other errors.
func ProblemOf(err error) Problem {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Problem
	}
	return ""
}
