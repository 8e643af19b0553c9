package yamldoc

// RequireFastAndSame lets the external tests hold generated repos to the
// fast YAML path (gen imports this package, so they cannot live inside it).
var RequireFastAndSame = requireFastAndSame

// ParseBlock and ParseFull expose the two YAML paths to the benchmark.
var (
	ParseBlock = parseBlock
	ParseFull  = func(src []byte) (any, bool) { return fullParse(src) }
)
