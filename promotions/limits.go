package promotions

// Limits bound what the loader accepts, so that hostile input fails fast
// with a clear error instead of exhausting memory.
type Limits struct {
	MaxFileBytes  int64 // size of one file
	MaxDepth      int   // nesting of mappings and sequences
	MaxAliasNodes int   // nodes produced by expanding aliases, per document
	MaxGrants     int   // entries in grants.customers of one promotion
	MaxRepoBytes  int64 // every config file of a repo together (see CheckRepoSize)
}

// Limit names one of the Limits, for a diagnostic that reports going over
// it.
type Limit string

// The limits, by their field in Limits.
const (
	LimitFileBytes  Limit = "MaxFileBytes"
	LimitDepth      Limit = "MaxDepth"
	LimitAliasNodes Limit = "MaxAliasNodes"
	LimitGrants     Limit = "MaxGrants"
	LimitRepoBytes  Limit = "MaxRepoBytes"
)

// DefaultLimits are generous for real repos and small for attacks.
var DefaultLimits = Limits{
	MaxFileBytes:  32 << 20,
	MaxDepth:      32,
	MaxAliasNodes: 10_000,
	MaxGrants:     2_000_000,
	MaxRepoBytes:  1 << 30,
}

// CheckRepoSize enforces Limits.MaxRepoBytes. A loader calls it for each
// config file, in the order it reads them, with total the sum of the sizes
// of the files so far including this one — before reading this file — and
// stops reading when it reports a diagnostic: the repo as a whole is then
// unusable, and the error names the file at which the total crossed the
// limit.
func CheckRepoSize(file string, total int64, lim Limits) (Diagnostic, bool) {
	if total <= lim.MaxRepoBytes {
		return Diagnostic{}, false
	}
	return ErrorAt(CodeYAMLSyntax, file, nil,
		"the config files up to and including this one hold %d bytes, more than the repo limit of %d bytes",
		total, lim.MaxRepoBytes).At(1, 1).Reaching(LimitRepoBytes), true
}
