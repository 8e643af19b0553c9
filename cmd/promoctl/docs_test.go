package main

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/sidecartest"
)

// The documentation's commands and outputs are checked by running them.
// Every ```console block of a checked document is a sequence of commands,
// each a line starting with "$ " (continued by a trailing backslash, or by
// the lines of a here-document), followed by the output it prints (stdout
// and stderr together, in order). In an output, a line "…" stands for any
// number of lines and a "…" inside a line for any text: for what changes
// between runs or clones (a sidecar's revision is the HEAD commit) or what
// is long. Commands run in order in one scratch directory laid out like a
// clone of this repository (a git work tree holding examples/ and
// bin/promoctl; promoctl is also on PATH), as the documents assume. Each
// command runs in its own sh: a "cd DIR" carries over to the next commands,
// shell variables do not (join such commands with &&).
// Commands that talk to the sidecar at 127.0.0.1:8787 reach one started on
// a copy of examples/acme.
//
// After an intended change of an output, regenerate the documents' outputs
// from real runs: go test ./cmd/promoctl -run TestDocs -update (an output
// with "…" is left to be edited by hand; the test says which).

// checkedDocs are the documents TestDocs runs, relative to the repo root.
var checkedDocs = []struct {
	name, path string
	needsNode  bool
	// ownSidecar: the document serves its own copy, ../acme, and edits it.
	ownSidecar bool
}{
	{name: "readme", path: "README.md"},
	{name: "apply-flow", path: "docs/apply-flow.md"},
	{name: "node-client", path: "examples/clients/node/README.md", needsNode: true},
	{name: "sidecar", path: "docs/sidecar.md", ownSidecar: true},
	{name: "bundles", path: "docs/bundles.md"},
	{name: "usage", path: "docs/usage.md"},
}

// docCommand is one command of a document and the output it shows.
type docCommand struct {
	line int    // of the "$ " line, 1-based
	cmd  string // the command, lines joined by newlines
	want []string
	// outStart, outEnd are the lines of the output in the document
	// (0-based, end exclusive), for -update.
	outStart, outEnd int
}

var heredoc = regexp.MustCompile(`<<-?\s*'?"?([A-Za-z_]+)'?"?`)

// parseConsoleBlocks returns the commands of every ```console block.
func parseConsoleBlocks(text string) []docCommand {
	lines := strings.Split(text, "\n")
	var cmds []docCommand
	inBlock := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock && strings.TrimSpace(line) == "```console"
			continue
		}
		if !inBlock || !strings.HasPrefix(line, "$ ") {
			continue
		}
		c := docCommand{line: i + 1, cmd: strings.TrimPrefix(line, "$ ")}
		for strings.HasSuffix(lines[i], "\\") && i+1 < len(lines) {
			i++
			c.cmd += "\n" + lines[i]
		}
		if m := heredoc.FindStringSubmatch(c.cmd); m != nil {
			for i+1 < len(lines) {
				i++
				c.cmd += "\n" + lines[i]
				if lines[i] == m[1] {
					break
				}
			}
		}
		c.outStart = i + 1
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "$ ") && !strings.HasPrefix(lines[i+1], "```") {
			i++
			c.want = append(c.want, lines[i])
		}
		c.outEnd = i + 1
		// Blank lines before the next command separate, they are no output.
		for len(c.want) > 0 && c.want[len(c.want)-1] == "" {
			c.want = c.want[:len(c.want)-1]
			c.outEnd--
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// matchOutput reports whether got matches want, where a want line "…"
// matches any number of lines and "…" inside a line any text.
func matchOutput(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "…" {
		for skip := 0; skip <= len(got); skip++ {
			if matchOutput(want[1:], got[skip:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && matchLine(want[0], got[0]) && matchOutput(want[1:], got[1:])
}

func matchLine(want, got string) bool {
	if !strings.Contains(want, "…") {
		return want == got
	}
	parts := strings.Split(want, "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

func TestParseConsoleBlocks(t *testing.T) {
	doc := "text\n```console\n$ promoctl a \\\n    --b\nout 1\n\nout 2\n\n$ cat > f <<'EOF'\nx\nEOF\n$ promoctl c\n```\n```sh\n$ not checked\n```\n"
	cmds := parseConsoleBlocks(doc)
	require.Len(t, cmds, 3)
	require.Equal(t, "promoctl a \\\n    --b", cmds[0].cmd)
	require.Equal(t, []string{"out 1", "", "out 2"}, cmds[0].want)
	require.Equal(t, "cat > f <<'EOF'\nx\nEOF", cmds[1].cmd)
	require.Empty(t, cmds[1].want)
	require.Equal(t, "promoctl c", cmds[2].cmd)
}

func TestMatchOutput(t *testing.T) {
	tests := []struct {
		name      string
		want, got []string
		ok        bool
	}{
		{"equal", []string{"a", "b"}, []string{"a", "b"}, true},
		{"different", []string{"a", "b"}, []string{"a", "c"}, false},
		{"missing line", []string{"a", "b"}, []string{"a"}, false},
		{"extra line", []string{"a"}, []string{"a", "b"}, false},
		{"lines elided", []string{"a", "…", "d"}, []string{"a", "b", "c", "d"}, true},
		{"no line elided", []string{"a", "…", "d"}, []string{"a", "d"}, true},
		{"text elided", []string{`{"revision":"…"}`}, []string{`{"revision":"abc"}`}, true},
		{"text elided, rest differs", []string{`{"revision":"…"}`}, []string{`{"revision":"abc","x":1}`}, false},
		{"regexp characters are literal", []string{"a.c (…)"}, []string{"abc (x)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.ok, matchOutput(tt.want, tt.got))
		})
	}
}

// docRun is what the scripts share with the test: each document's
// commands, and the outputs that differ (for -update).
type docRun struct {
	mu      sync.Mutex
	cmds    map[string][]docCommand
	actual  map[string]map[int][]string
	sidecar string // the shared sidecar's host:port
	bin     string
	own     map[string]string // a document's own sidecar's host:port
}

func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts a sidecar and runs the documents' commands")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("the documents run in a git clone: needs the git binary")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	bin := sidecartest.Build(t)
	acme := filepath.Join(t.TempDir(), "acme")
	require.NoError(t, os.CopyFS(acme, os.DirFS(filepath.Join(root, "examples/acme"))))
	sc := sidecartest.Start(t, bin, acme)

	run := &docRun{cmds: map[string][]docCommand{}, actual: map[string]map[int][]string{},
		sidecar: strings.TrimPrefix(sc.URL, "http://"), bin: bin, own: map[string]string{}}
	scripts := t.TempDir()
	for _, d := range checkedDocs {
		if d.needsNode && !nodeReady(t, root) {
			continue
		}
		text, err := os.ReadFile(filepath.Join(root, d.path))
		require.NoError(t, err)
		cmds := parseConsoleBlocks(string(text))
		require.NotEmpty(t, cmds, "%s has no console block", d.path)
		run.cmds[d.name] = cmds
		script := docScript(d.name, cmds)
		if d.ownSidecar {
			script = "exec cp -r examples/acme ../acme\nownsidecar " + d.name + " ../acme\n" + script
		}
		// One directory each: a document's ../acme is its own.
		dir := filepath.Join(scripts, d.name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, d.name+".txtar"), []byte(script), 0o644))
	}
	if *update {
		t.Cleanup(func() { run.rewrite(t, root) })
	}

	for _, d := range checkedDocs {
		if run.cmds[d.name] == nil {
			continue
		}
		t.Run(d.name, func(t *testing.T) { run.runDoc(t, root, bin, filepath.Join(scripts, d.name)) })
	}
}

func (r *docRun) runDoc(t *testing.T, root, bin, dir string) {
	testscript.Run(t, testscript.Params{
		Dir:         dir,
		WorkdirRoot: t.TempDir(),
		Setup: func(env *testscript.Env) error {
			// A clone: examples/ (with the Node client's installed
			// modules linked), bin/promoctl, committed to git.
			if err := copyExamples(filepath.Join(root, "examples"), filepath.Join(env.WorkDir, "examples")); err != nil {
				return err
			}
			node := filepath.Join(env.WorkDir, "examples/clients/node/node_modules")
			if err := os.Symlink(filepath.Join(root, "examples/clients/node/node_modules"), node); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, ".gitignore"), []byte("/bin/\nnode_modules\n"), 0o644); err != nil {
				return err
			}
			binDir := filepath.Join(env.WorkDir, "bin")
			if err := os.MkdirAll(binDir, 0o755); err != nil {
				return err
			}
			if err := os.Link(bin, filepath.Join(binDir, "promoctl")); err != nil {
				return err
			}
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			for _, kv := range []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=Docs", "GIT_AUTHOR_EMAIL=docs@example.com",
				"GIT_COMMITTER_NAME=Docs", "GIT_COMMITTER_EMAIL=docs@example.com"} {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "clone"}} {
				git := exec.Command("git", args...)
				git.Dir = env.WorkDir
				git.Env = env.Vars
				if out, err := git.CombinedOutput(); err != nil {
					return fmt.Errorf("git %s: %v: %s", args[0], err, out)
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"doccmd":     r.command,
			"ownsidecar": r.ownSidecar,
		},
	})
}

// ownSidecar starts the sidecar a document runs itself (promoctl serve
// --repo DIR) on a free port and waits until it is ready: ownsidecar DOC DIR.
func (r *docRun) ownSidecar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: ownsidecar DOC DIR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := ln.Addr().String()
	ts.Check(ln.Close())
	cmd := exec.Command(r.bin, "serve", "--repo", args[1], "--addr", addr, "--data-dir", ts.MkAbs("../usage-data"))
	cmd.Dir = ts.MkAbs(".")
	ts.Check(cmd.Start())
	ts.Defer(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the sidecar on %s is not ready", args[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.Lock()
	r.own[args[0]] = addr
	r.mu.Unlock()
}

// nodeReady installs the Node client's locked modules once; false (and a
// log line) when node or npm is missing.
func nodeReady(t *testing.T, root string) bool {
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Log("npm is not on PATH: the Node client's README is not checked")
		return false
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Log("node is not on PATH: the Node client's README is not checked")
		return false
	}
	dir := filepath.Join(root, "examples/clients/node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/@openfeature/ofrep-provider")); err == nil {
		return true
	}
	ci := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	ci.Dir = dir
	out, err := ci.CombinedOutput()
	require.NoError(t, err, "npm ci: %s", out)
	return true
}

// docScript is a testscript running a document's commands in order: a
// "cd DIR" is the script's own cd, every other command runs in sh.
func docScript(name string, cmds []docCommand) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The commands of %s, in order.\n", name)
	for i, c := range cmds {
		if dir, ok := strings.CutPrefix(c.cmd, "cd "); ok && !strings.ContainsAny(dir, "&;|$\n") {
			fmt.Fprintf(&b, "cd %s\n", dir)
			if len(c.want) == 0 {
				continue
			}
		}
		fmt.Fprintf(&b, "doccmd %s %d\n", name, i)
	}
	return b.String()
}

// copyExamples copies the regular files under src to dst, without node_modules.
func copyExamples(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// command runs command i of a document in sh and compares its output.
func (r *docRun) command(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: doccmd DOC INDEX")
	}
	var i int
	_, err := fmt.Sscan(args[1], &i)
	ts.Check(err)
	c := r.cmds[args[0]][i]
	r.mu.Lock()
	addr, ok := r.own[args[0]]
	r.mu.Unlock()
	if !ok {
		addr = r.sidecar
	}
	sh := strings.NewReplacer("127.0.0.1:8787", addr, "localhost:8787", addr).Replace(c.cmd)
	cmd := exec.Command("sh", "-c", sh+"\n")
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = append(os.Environ(), "PATH="+ts.Getenv("PATH"), "HOME="+ts.Getenv("HOME"))
	for _, k := range []string{"GIT_CONFIG_NOSYSTEM", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	out, _ := cmd.CombinedOutput() // exit codes are part of what the text says, not checked here
	// HTTP headers end in CRLF; a document shows lines.
	got := strings.Split(strings.TrimRight(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n"), "\n")
	if len(out) == 0 {
		got = nil
	}
	if matchOutput(c.want, got) {
		return
	}
	r.mu.Lock()
	if r.actual[args[0]] == nil {
		r.actual[args[0]] = map[int][]string{}
	}
	r.actual[args[0]][i] = got
	r.mu.Unlock()
	report := ts.Fatalf
	if *update {
		report = ts.Logf // run on: the document is rewritten at the end
	}
	report("line %d: $ %s\nthe document shows:\n%s\nthe command printed:\n%s", c.line, c.cmd,
		strings.Join(c.want, "\n"), strings.Join(got, "\n"))
}

// rewrite puts the outputs the commands printed into the documents, where
// they differ and the document's output has no "…".
func (r *docRun) rewrite(t *testing.T, root string) {
	for _, d := range checkedDocs {
		outputs := r.actual[d.name]
		if len(outputs) == 0 {
			continue
		}
		path := filepath.Join(root, d.path)
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		lines := strings.Split(string(text), "\n")
		cmds := r.cmds[d.name]
		// From the end, so earlier line numbers stay valid.
		for i := len(cmds) - 1; i >= 0; i-- {
			got, ok := outputs[i]
			if !ok {
				continue
			}
			c := cmds[i]
			if strings.Contains(strings.Join(c.want, "\n"), "…") {
				t.Errorf("%s:%d: the output has \"…\": update it by hand from the output above", d.path, c.line)
				continue
			}
			lines = append(lines[:c.outStart], append(append([]string{}, got...), lines[c.outEnd:]...)...)
		}
		require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644))
		t.Logf("rewrote the outputs of %s", d.path)
	}
}
