package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/internal/sidecartest"
)

// allCommands walks the command tree, the root excluded.
func allCommands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range root.Commands() {
		out = append(out, c)
		out = append(out, allCommands(c)...)
	}
	return out
}

// runCLI runs promoctl in-process and returns its exit code and output.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestEveryCommandHelpHasAnExample(t *testing.T) {
	a := &app{}
	for _, c := range allCommands(a.rootCommand()) {
		if c.Hidden || c.Name() == "help" || c.HasParent() && c.Parent().Name() == "completion" || c.Name() == "completion" {
			continue // cobra's own
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			code, out, _ := runCLI(append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "promoctl ")), "--help")...)
			require.Equal(t, exitOK, code)
			require.Contains(t, out, "\nExamples:\n  promoctl ", "help of %s", c.CommandPath())
		})
	}
}

// The limit flags belong to the commands that read a repo, in a section
// of their own; the others do not show them.
func TestLimitFlagsOnlyWhereARepoIsRead(t *testing.T) {
	reads := map[string]bool{"validate": true, "diff": true, "explain": true, "create": true, "grant": true,
		"revoke": true, "regrant": true, "deactivate": true, "activate": true, "customers": true, "serve": true, "build": true, "console": true,
		"promotions": true, "show": true, "history": true}
	a := &app{}
	for _, c := range allCommands(a.rootCommand()) {
		if c.Name() == "help" {
			continue
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			_, out, _ := runCLI(append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "promoctl ")), "--help")...)
			if !reads[c.Name()] {
				assert.NotContains(t, out, "--max-file-size")
				assert.NotContains(t, out, "--repo")
				return
			}
			own, limits, ok := strings.Cut(out, "\nLimits on input")
			require.True(t, ok, "no limits section:\n%s", out)
			for _, f := range []string{"--max-file-size", "--max-repo-size", "--max-depth", "--max-alias-nodes", "--max-grants"} {
				assert.NotContains(t, own, f)
				assert.Contains(t, limits, f)
			}
			assert.Contains(t, own, "--repo")
		})
	}
}

func TestCallMistakes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // lines of stderr, in order
	}{
		{"missing promotion id", []string{"grant"}, []string{
			"promoctl: grant needs ID: the id of the promotion to grant",
			"Usage:",
			"  promoctl grant ID (--customers a,b | --customers-file F | --search Q | --all) [flags]",
			"Run 'promoctl grant --help' for examples and every flag."}},
		{"missing id of activate", []string{"activate"}, []string{"promoctl: activate needs ID: the id of the promotion to activate", "Usage:", "  promoctl activate ID [flags]"}},
		{"extra argument", []string{"customers", "a", "b"}, []string{`promoctl: customers takes only ID; unexpected "b"`, "Usage:"}},
		{"argument to validate", []string{"validate", "examples/acme"}, []string{`promoctl: validate takes no arguments; unexpected "examples/acme"`, "Usage:"}},
		{"mistyped flag", []string{"validate", "--max-dept", "3"}, []string{"promoctl: unknown flag: --max-dept (did you mean --max-depth?)", "Usage:", "  promoctl validate [--base REV | --base-dir DIR] [flags]"}},
		{"mistyped flag of grant", []string{"grant", "x", "--custmers", "a"}, []string{"promoctl: unknown flag: --custmers (did you mean --customers?)"}},
		{"mistyped command", []string{"valdate"}, []string{`promoctl: unknown command "valdate" for "promoctl"`, "", "Did you mean this?", "\tvalidate", "Usage:", "  promoctl [command]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Equal(t, tt.want, strings.Split(stderr, "\n")[:len(tt.want)], stderr)
		})
	}
}

func TestVersionWithoutStamp(t *testing.T) {
	code, out, _ := runCLI("version")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `^promoctl \S+\ncommit: \S+.*\ndate:   \S+\ngo:     go\S+ \S+/\S+\n$`, out)
	code, same, _ := runCLI("--version")
	require.Equal(t, exitOK, code)
	assert.Equal(t, out, same, "--version prints what version prints")
}

// make build stamps version, commit and date with -ldflags; the binary
// prints them.
func TestVersionStampedByMakeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not on PATH")
	}
	// The flags make build passes, with the values given here.
	cmd := exec.Command(makeBin, "-s", "-n", "build", "GO=go", "VERSION=v9.8.7", "COMMIT=0123abc", "DATE=2026-01-02T03:04:05Z")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	const ldflags = "-X main.version=v9.8.7 -X main.commit=0123abc -X main.date=2026-01-02T03:04:05Z"
	require.Contains(t, string(out), `-ldflags "`+ldflags+`"`)

	bin := filepath.Join(t.TempDir(), "promoctl")
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".")
	out, err = build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		require.NoError(t, err)
		assert.Regexp(t, `^promoctl v9\.8\.7\ncommit: 0123abc\ndate:   2026-01-02T03:04:05Z\ngo:     go`, string(out))
	}
	_ = os.Remove(bin)
}

func TestInitPinsItsOwnRelease(t *testing.T) {
	workflow, err := scaffold.ReadFile("scaffold/" + workflowFile)
	require.NoError(t, err)
	require.Contains(t, string(workflow), scaffoldVersion)
	require.Contains(t, string(workflow), `cmd/promoctl@${PROMOCTL_VERSION}`)
	tests := []struct {
		version, want string
	}{
		{"v1.4.2", "PROMOCTL_VERSION: v1.4.2"},
		{"v2.0.0-rc.1", "PROMOCTL_VERSION: v2.0.0-rc.1"},
		{"(devel)", scaffoldVersion},
		{"v0.0.0-20261130073849-32d83e22c81d", scaffoldVersion}, // a pseudo-version
		{"32d83e2-dirty", scaffoldVersion},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got := string(pinVersion(workflow, tt.version))
			assert.Contains(t, got, tt.want)
			assert.Equal(t, 1, strings.Count(got, "PROMOCTL_VERSION: "))
		})
	}
}

// The CI examples install a pinned release, never @latest.
func TestCIExamplesPinARelease(t *testing.T) {
	files, err := filepath.Glob("../../examples/ci/*.yml")
	require.NoError(t, err)
	files = append(files, "scaffold/"+workflowFile)
	require.Len(t, files, 3)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "@latest", f)
		assert.Regexp(t, `PROMOCTL_VERSION: v\d+\.\d+\.\d+\n`, string(data), f)
		assert.Contains(t, string(data), `go install "github.com/promoctl/promoctl/cmd/promoctl@${PROMOCTL_VERSION}"`, f)
	}
}

// Every repo promoctl ships marks its root with .promoctl/ and keeps the
// lock out of commits with the same .gitignore.
func TestShippedReposIgnoreTheLock(t *testing.T) {
	for _, f := range []string{"scaffold/.promoctl/.gitignore", "../../examples/acme/.promoctl/.gitignore"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Equal(t, fsutil.LockIgnore, string(data), f)
	}
}

// The sidecar says which promoctl it is: in its start-up log line and in
// /v1/status.
func TestServeShowsItsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the sidecar")
	}
	bin := sidecartest.Build(t)
	out, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	version := strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "promoctl ")
	require.NotEmpty(t, version, "version output: %s", out)

	sc := sidecartest.Start(t, bin, "../../examples/acme")
	var status struct{ Version string }
	require.Equal(t, 200, sc.GetJSON(t, "/v1/status", &status))
	assert.Equal(t, version, status.Version)
	var listening map[string]any
	for _, line := range strings.Split(sc.Logs(), "\n") {
		if strings.Contains(line, `"msg":"listening"`) {
			require.NoError(t, json.Unmarshal([]byte(line), &listening))
		}
	}
	require.NotNil(t, listening, "logs:\n%s", sc.Logs())
	assert.Equal(t, version, listening["version"])
	assert.Contains(t, listening, "commit")
}
