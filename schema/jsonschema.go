package schema

import (
	"bytes"
	"encoding/json"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"
)

// documentUnion names the union of every kind, the root of the exported
// JSON Schema. It only refers to the embedded definitions.
const documentUnion = "package schema\n\n#Document: #Feature | #Plan | #Customers | #PromotionalEntitlement\n"

// JSONSchema generates a JSON Schema (draft 2020-12) for config files from
// the embedded CUE definitions, for editors (yaml-language-server, VS
// Code). CUE stays the source of truth: the generator cannot express a
// field that depends on another field's value (metered iff
// feature_type is metered), so such fields are left open here and are
// checked by promoctl validate.
func JSONSchema() ([]byte, error) {
	ctx := cuecontext.New()
	root, err := buildEmbedded(ctx, [2]string{"document.cue", documentUnion})
	if err != nil {
		return nil, err
	}
	expr, err := jsonschema.Generate(root.LookupPath(cue.ParsePath("#Document")), nil)
	if err != nil {
		return nil, fmt.Errorf("generate JSON Schema: %w", err)
	}
	raw, err := ctx.BuildExpr(expr).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode JSON Schema: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent JSON Schema: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
