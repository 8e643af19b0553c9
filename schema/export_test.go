package schema

import "cuelang.org/go/cue"

// KindDefinition exposes the compiled definition of a kind to the external
// tests.
func (s *Schema) KindDefinition(kind string) cue.Value { return s.defs[kind] }
