package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/schema"
)

func (a *app) schemaCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the schemas config files are checked against",
		Example: `  promoctl schema export --format jsonschema > .promoctl/schema.json
  promoctl schema export --format cue`,
	}
	var format string
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the CUE schema, or a JSON Schema generated from it for editors",
		Long: "--format jsonschema prints a JSON Schema (draft 2020-12) generated from the CUE definitions; " +
			"point yaml-language-server at it with a '# yaml-language-server: $schema=<path>' line " +
			"(promoctl init writes .promoctl/schema.json and those lines). --format cue prints the CUE sources.",
		Example: `  promoctl schema export > .promoctl/schema.json
  promoctl schema export --format cue`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "jsonschema":
				out, err := schema.JSONSchema()
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				_, err = a.stdout.Write(out)
				return err
			case "cue":
				return writeCUESources(a.stdout)
			default:
				return usageError("--format must be jsonschema or cue, not %q", format)
			}
		},
	}
	enumFlag(export, &format, "format", "schema language", "jsonschema", "cue")
	cmd.AddCommand(export)
	return cmd
}

func writeCUESources(w io.Writer) error {
	src := schema.Sources()
	names := promotions.SortedKeys(src)
	sort.Strings(names)
	for i, n := range names {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if _, err := fmt.Fprintf(w, "// %s\n%s", n, src[n]); err != nil {
			return err
		}
	}
	return nil
}
