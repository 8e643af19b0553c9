package docs_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/sidecartest"
)

// root is the module root, from this directory.
const root = "../../.."

// docs are the pages whose Go excerpts and shell blocks this test checks.
var docs = []string{"docs/go.md"}

// block is a fenced code block of a markdown page.
type block struct {
	lang string
	text string
}

func blocks(t *testing.T, page string) []block {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, page))
	require.NoError(t, err)
	var out []block
	var cur *block
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{lang: strings.TrimPrefix(line, "```")}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

// Every Go excerpt in the docs is code of an example, as it stands there.
func TestDocsGoExcerptsAreExampleCode(t *testing.T) {
	var sources []string
	for _, name := range []string{"inprocess", "ofrep", "hello"} {
		raw, err := os.ReadFile(filepath.Join(name, "main.go"))
		require.NoError(t, err)
		sources = append(sources, normalize(string(raw)))
	}
	for _, page := range docs {
		n := 0
		for _, b := range blocks(t, page) {
			if b.lang != "go" {
				continue
			}
			n++
			excerpt := strings.TrimSpace(normalize(b.text))
			found := false
			for _, src := range sources {
				found = found || strings.Contains(src, excerpt)
			}
			assert.True(t, found, "%s: this excerpt is not in the examples:\n%s", page, b.text)
		}
		assert.Positive(t, n, page)
	}
}

// normalize drops indentation, which differs between a function body and
// an excerpt of it.
func normalize(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimSpace(line))
		b.WriteByte('\n')
	}
	return b.String()
}

// Every shell block of the docs runs as written, on free ports, and each
// "# " line after a curl is its output.
func TestDocsShellBlocksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the examples and the sidecar")
	}
	for _, page := range docs {
		for i, b := range blocks(t, page) {
			if b.lang != "sh" {
				continue
			}
			t.Run(fmt.Sprintf("%s block %d", filepath.Base(page), i+1), func(t *testing.T) { runScript(t, b.text) })
		}
	}
}

var addrPattern = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// script runs the few commands the docs show: building promoctl, running
// an example or promoctl (in the background with &), and curl. Commands
// run in a scratch directory where examples/ links to the repo's.
type script struct {
	t    *testing.T
	dir  string
	bin  string            // bin/promoctl
	out  string            // the last curl's output
	want []string          // "# " lines since the last curl
	curl string            // the last curl, for messages
	port map[string]string // documented address → free address
}

func runScript(t *testing.T, text string) {
	s := &script{t: t, dir: t.TempDir(), port: map[string]string{}}
	examples, err := filepath.Abs(filepath.Join(root, "examples"))
	require.NoError(t, err)
	require.NoError(t, os.Symlink(examples, filepath.Join(s.dir, "examples")))
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = addrPattern.ReplaceAllStringFunc(line, s.free)
		if want, ok := strings.CutPrefix(line, "# "); ok {
			s.want = append(s.want, want)
			continue
		}
		s.check()
		args := shellWords(t, line)
		switch {
		case line == "go build -o bin/promoctl ./cmd/promoctl":
			s.bin = sidecartest.Build(t)
		case args[0] == "go" && args[1] == "run" && args[len(args)-1] == "&":
			s.start(buildExample(t, args[2]), args[3:len(args)-1])
		case args[0] == "go" && args[1] == "run":
			s.out, s.curl = s.run(buildExample(t, args[2]), args[3:]), line
		case args[0] == "bin/promoctl" && args[len(args)-1] == "&":
			require.NotEmpty(t, s.bin, "bin/promoctl is used before it is built")
			s.start(s.bin, args[1:len(args)-1])
		case args[0] == "bin/promoctl":
			require.NotEmpty(t, s.bin, "bin/promoctl is used before it is built")
			s.out, s.curl = s.run(s.bin, args[1:]), line
		case args[0] == "curl":
			s.out, s.curl = curl(t, args[1:]), line
		default:
			t.Fatalf("the docs test does not know how to run %q", line)
		}
	}
	s.check()
}

// free maps a documented address to a free loopback one.
func (s *script) free(addr string) string {
	if got, ok := s.port[addr]; ok {
		return got
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(s.t, err)
	s.port[addr] = ln.Addr().String()
	require.NoError(s.t, ln.Close())
	return s.port[addr]
}

func (s *script) check() {
	if s.want != nil {
		assert.Equal(s.t, strings.Join(s.want, "\n"), s.out, s.curl)
	}
	s.want = nil
}

// run runs bin in the scratch directory and returns its output.
func (s *script) run(bin string, args []string) string {
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	require.NoError(s.t, err, "%s %v: %s", bin, args, out)
	return strings.TrimSuffix(string(out), "\n")
}

// start runs bin in the background in the scratch directory and waits until the
// address after -addr/--addr answers (/readyz is 200 for the sidecar).
func (s *script) start(bin string, args []string) {
	t := s.t
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	var addr string
	for i, a := range args {
		if (a == "-addr" || a == "--addr") && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	require.NotEmpty(t, addr, "%s has no -addr", bin)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode != http.StatusServiceUnavailable
	}, 60*time.Second, 50*time.Millisecond, "%s %v did not start", bin, args)
}

// buildExample builds ./examples/clients/go/<name> into a temporary
// directory.
func buildExample(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", bin, pkg)
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, out)
	return bin
}

// curl does what the docs' curl lines do: -s, -H, -o /dev/null with
// -w '%{http_code}\n', and a URL.
func curl(t *testing.T, args []string) string {
	t.Helper()
	var url, format string
	discard := false
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s":
		case "-H":
			i++
			k, v, ok := strings.Cut(args[i], ": ")
			require.True(t, ok, args[i])
			header.Set(k, v)
		case "-o":
			i++
			require.Equal(t, "/dev/null", args[i])
			discard = true
		case "-w":
			i++
			format = args[i]
		default:
			url = args[i]
		}
	}
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out string
	if !discard {
		out = string(body)
	}
	if format != "" {
		require.Equal(t, `%{http_code}\n`, format)
		out += strconv.Itoa(resp.StatusCode) + "\n"
	}
	return strings.TrimSuffix(out, "\n")
}

// shellWords splits a line on spaces, keeping single-quoted words whole.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	sc := bufio.NewScanner(strings.NewReader(line))
	sc.Split(bufio.ScanRunes)
	var cur strings.Builder
	quoted, inWord := false, false
	for sc.Scan() {
		r := sc.Text()
		switch {
		case r == "'":
			quoted, inWord = !quoted, true
		case r == " " && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteString(r)
			inWord = true
		}
	}
	require.False(t, quoted, "unbalanced quote in %q", line)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
