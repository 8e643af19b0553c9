package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineEndVariants are the ways an editor may save the same config file:
// each maps the LF bytes to the variant's.
var lineEndVariants = []struct {
	name string
	to   func([]byte) []byte
}{
	{"crlf", toCRLF},
	{"bom", func(b []byte) []byte { return append([]byte("\xEF\xBB\xBF"), b...) }},
	{"bom+crlf", func(b []byte) []byte { return append([]byte("\xEF\xBB\xBF"), toCRLF(b)...) }},
}

func toCRLF(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }

// variantRepo copies examples/acme, every YAML file passed through to.
func variantRepo(t *testing.T, to func([]byte) []byte) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "acme")
	dir := t.TempDir()
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".yaml") {
			data = to(data)
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	}))
	return dir
}

func runIn(t *testing.T, dir string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append(args, "--repo", dir), strings.NewReader(stdin), &stdout, &stderr)
	// The revision hashes the bytes, which differ by design.
	mask := func(s string) string {
		return revisionHash.ReplaceAllString(strings.ReplaceAll(s, dir, "REPO"), "sha256:HASH")
	}
	return code, mask(stdout.String()), mask(stderr.String())
}

var revisionHash = regexp.MustCompile(`sha256:[0-9a-f]+`)

// A repo saved with CRLF line ends or a BOM validates and explains exactly
// as the LF repo does: same diagnostics at the same lines and columns.
func TestCRLFAndBOMRepoReadsAsLF(t *testing.T) {
	broken := []byte("kind: Feature\n# a comment\nkey: BAD KEY\ntype: boolean\n")
	lf := variantRepo(t, func(b []byte) []byte { return b })
	require.NoError(t, os.WriteFile(filepath.Join(lf, "features", "broken.yaml"), broken, 0o644))
	queries := [][]string{
		{"explain", "--customer", "cus_001", "--feature", "api_calls", "--at", "2026-04-01T00:00:00Z", "--format", "json"},
		{"explain", "--customer", "cus_021", "--feature", "api_calls", "--at", "2026-05-12T00:00:00Z"},
		{"explain", "--customer", "cus_026", "--feature", "audit_log", "--at", "2026-04-01T00:00:00Z"},
		{"explain", "--customer", "cus_002", "--feature", "seats", "--at", "2026-04-01T00:00:00Z"},
	}
	for _, v := range lineEndVariants {
		t.Run(v.name, func(t *testing.T) {
			dir := variantRepo(t, v.to)
			for _, q := range queries {
				wantCode, wantOut, wantErr := runIn(t, lf, "", q...)
				// the broken file is only in the LF repo yet: explain
				// answers from a valid repo
				if wantCode != 0 {
					require.NoError(t, os.Remove(filepath.Join(lf, "features", "broken.yaml")))
					wantCode, wantOut, wantErr = runIn(t, lf, "", q...)
					require.NoError(t, os.WriteFile(filepath.Join(lf, "features", "broken.yaml"), broken, 0o644))
				}
				code, out, errOut := runIn(t, dir, "", q...)
				require.Equal(t, 0, wantCode, wantErr)
				assert.Equal(t, wantCode, code, errOut)
				assert.Equal(t, wantOut, out, q)
				assert.Equal(t, wantErr, errOut, q)
			}
			code, out, errOut := runIn(t, dir, "", "validate")
			assert.Equal(t, 0, code, out+errOut)

			require.NoError(t, os.WriteFile(filepath.Join(dir, "features", "broken.yaml"), v.to(broken), 0o644))
			for _, format := range []string{"text", "json"} {
				wantCode, wantOut, wantErr := runIn(t, lf, "", "validate", "--format", format)
				code, out, errOut := runIn(t, dir, "", "validate", "--format", format)
				require.Equal(t, 1, wantCode)
				require.Regexp(t, `broken.yaml:3:6|"line": 3,\s+"column": 6`, wantOut+wantErr)
				assert.Equal(t, wantCode, code)
				assert.Equal(t, wantOut, out)
				assert.Equal(t, wantErr, errOut)
			}
		})
	}
}

// Every editing command on a CRLF or BOM repo makes the edit it makes on
// the LF repo, written in the file's own line ends and BOM: the result is
// the LF result converted, so comments and every untouched byte stay.
func TestEditingCommandsKeepLineEndsAndBOM(t *testing.T) {
	ids := "cus_005\n# attendees\n\ncus_006\n"
	commands := []struct {
		stdin string
		args  []string
	}{
		{ids, []string{"grant", "spring-api-boost", "--customers-file", "-", "--at", "2026-04-01T00:00:00Z"}},
		{"", []string{"revoke", "spring-api-boost", "--customers", "cus_014", "--at", "2026-04-02T00:00:00Z"}},
		{"", []string{"regrant", "spring-api-boost", "--customers", "cus_016", "--at", "2026-04-03T00:00:00Z"}},
		{"", []string{"deactivate", "growth-seat-override", "--at", "2026-04-04T00:00:00Z"}},
		{"", []string{"activate", "growth-seat-override"}},
		{"", []string{"create", "sso-trial", "--feature", "sso", "--eligible-plan", "starter", "--duration", "30d"}},
		{"", []string{"grant", "sso-trial", "--customers", "cus_010", "--at", "2026-04-05T00:00:00Z"}},
	}
	for _, v := range lineEndVariants {
		t.Run(v.name, func(t *testing.T) {
			lf := variantRepo(t, func(b []byte) []byte { return b })
			dir := variantRepo(t, v.to)
			for _, c := range commands {
				stdin := c.stdin
				wantCode, wantOut, wantErr := runIn(t, lf, stdin, c.args...)
				require.Equal(t, 0, wantCode, "%v: %s", c.args, wantErr)
				code, out, errOut := runIn(t, dir, string(v.to([]byte(stdin))), c.args...)
				require.Equal(t, wantCode, code, "%v: %s", c.args, errOut)
				assert.Equal(t, wantOut, out, c.args)
				assert.Equal(t, wantErr, errOut, c.args)
			}
			want, got := treeContents(t, lf), treeContents(t, dir)
			require.Len(t, got, len(want))
			for path, content := range want {
				rel, _ := filepath.Rel(lf, path)
				if !strings.HasSuffix(rel, ".yaml") {
					continue
				}
				other := filepath.Join(dir, rel)
				if rel == filepath.Join("promotions", "sso-trial.yaml") {
					// create writes a new file with LF line ends
					assert.Equal(t, content, got[other], rel)
					continue
				}
				assert.Equal(t, string(v.to([]byte(content))), got[other], rel)
			}
			code, out, errOut := runIn(t, dir, "", "validate")
			assert.Equal(t, 0, code, out+errOut)
		})
	}
}
