// Command yamltojson converts a YAML document into compact JSON, keeping
// the order of its keys. `go generate ./evaluator/server` runs it to turn
// docs/openapi.yaml into the JSON the sidecar embeds and serves at
// /openapi.json, so the sidecar itself links no YAML parser.
//
//	go run ./internal/yamltojson -in docs/openapi.yaml -out evaluator/server/openapi.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
)

func main() {
	in := flag.String("in", "", "the YAML file to read")
	out := flag.String("out", "", "the JSON file to write")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: yamltojson -in FILE.yaml -out FILE.json")
		os.Exit(2)
	}
	if err := convert(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "yamltojson:", err)
		os.Exit(1)
	}
}

func convert(in, out string) error {
	src, err := os.ReadFile(in) // #nosec G304 -- a path the developer names on the command line
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	raw, err := yaml.YAMLToJSON(src)
	if err != nil {
		return fmt.Errorf("convert %s: %w", in, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return fmt.Errorf("compact %s: %w", in, err)
	}
	compact.WriteByte('\n')
	if err := os.WriteFile(out, compact.Bytes(), 0o644); err != nil { // #nosec G306 -- a source file of the repo, readable like the others
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
