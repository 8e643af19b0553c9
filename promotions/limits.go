package promotions

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
	return at(Error(CodeYAMLSyntax, file, nil,
		"the config files up to and including this one hold %d bytes, more than the repo limit of %d bytes (--max-repo-size)",
		total, lim.MaxRepoBytes), 1, 1), true
}
