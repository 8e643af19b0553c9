// Package sidecartest builds the promoctl binary, once per test process,
// and runs `promoctl serve` on a free loopback port, for the tests that
// talk to a real sidecar or run the real binary (cmd/promoctl's end-to-end
// tests, the Go client examples, the provider's equivalence test).
package sidecartest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const deadline = 60 * time.Second

// binary is the promoctl binary of this test process: built by the first
// Build, removed when Main returns.
var binary struct {
	mu      sync.Mutex
	inMain  bool
	dir     string
	path    string
	err     error
	started bool
}

// Main runs a test package's tests (m is the *testing.M of its TestMain)
// and then removes the binary Build made. Every package that calls Build
// runs its tests through it:
//
//	func TestMain(m *testing.M) { os.Exit(sidecartest.Main(m)) }
func Main(m interface{ Run() int }) int {
	binary.mu.Lock()
	binary.inMain = true
	binary.mu.Unlock()
	code := m.Run()
	binary.mu.Lock()
	defer binary.mu.Unlock()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	return code
}

// Build returns the path of cmd/promoctl compiled for this test process:
// the first call builds it (a `go build` links the whole binary, seconds
// of a busy machine), later calls share it. A test must not change or
// remove it. Under -short the test is skipped: it is an end-to-end test.
func Build(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds and runs the promoctl binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	binary.mu.Lock()
	defer binary.mu.Unlock()
	require.True(t, binary.inMain, "run the package's tests through sidecartest.Main (in TestMain), which removes the binary Build makes")
	if !binary.started {
		binary.started = true
		binary.dir, binary.path, binary.err = build(goBin)
	}
	require.NoError(t, binary.err)
	return binary.path
}

func build(goBin string) (dir, bin string, err error) {
	gomod, err := exec.Command(goBin, "env", "GOMOD").Output() // #nosec G204 -- the go command from PATH, fixed arguments
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir, err = os.MkdirTemp("", "promoctl-test-")
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, "promoctl")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/promoctl") // #nosec G204 -- the go command from PATH, a temporary output
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return dir, "", fmt.Errorf("go build: %w: %s", err, out)
	}
	return dir, bin, nil
}

// Sidecar is a running `promoctl serve`.
type Sidecar struct {
	URL  string // http://127.0.0.1:<port>
	logs *Buffer
}

// Logs returns what the sidecar logged so far.
func (s *Sidecar) Logs() string { return s.logs.String() }

// Start runs `bin serve --repo repo --addr 127.0.0.1:0` with the extra
// args, reads the address it bound from its "listening" log line and waits
// for /readyz. Cleanup stops it with SIGTERM.
func Start(t testing.TB, bin, repo string, args ...string) *Sidecar {
	t.Helper()
	sc := StartUnready(t, bin, repo, args...)
	WaitReady(t, sc.URL, deadline, sc.logs)
	return sc
}

// readyClient bounds each /readyz probe, so that a hung sidecar cannot
// hold a wait past its deadline.
var readyClient = &http.Client{Timeout: 10 * time.Second}

// WaitReady polls url's /readyz every 10 ms until it answers 200, failing
// the test (with logs) after within.
func WaitReady(t testing.TB, url string, within time.Duration, logs *Buffer) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := readyClient.Get(url + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close() // the status is all that is read
		return resp.StatusCode == http.StatusOK
	}, within, 10*time.Millisecond, "sidecar at %s not ready within %v; logs:\n%s", url, within, logs)
}

// Spawn starts cmd, a `promoctl serve ... --log-format json`, copies its
// log (stderr) into the Buffer it returns and waits up to within for the
// address of its "listening" line. A sidecar that does not listen in time
// is killed and fails the test. Stopping it is the caller's: tests stop
// theirs differently (SIGTERM and a clean exit, SIGKILL mid-load, or a
// benchmark's kill after measuring).
func Spawn(t testing.TB, cmd *exec.Cmd, within time.Duration) (addr string, logs *Buffer) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	logs = &Buffer{}
	select {
	case addr = <-Listening(stderr, logs):
		return addr, logs
	case <-time.After(within):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("sidecar did not listen within %v; logs:\n%s", within, logs)
		return "", logs
	}
}

// StartUnready is Start without waiting for /readyz: for a repo that
// cannot load, whose sidecar listens but never becomes ready. Unless args
// name one, the sidecar's usage data directory is the test's own, never
// the user's state directory.
func StartUnready(t testing.TB, bin, repo string, args ...string) *Sidecar {
	t.Helper()
	args = OwnDataDir(t, args)
	args = append([]string{"serve", "--repo", repo, "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(bin, args...) // #nosec G204 -- the binary Build made, the test's own arguments
	addr, logs := Spawn(t, cmd, deadline)
	sc := &Sidecar{URL: "http://" + addr, logs: logs}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown exits 0; logs:\n%s", sc.logs)
		case <-time.After(deadline):
			_ = cmd.Process.Kill()
			t.Errorf("sidecar did not stop on SIGTERM")
		}
	})
	return sc
}

// OwnDataDir adds --data-dir with a directory of the test's own unless args
// name one, so that no test sidecar opens the user's state directory or
// shares a usage store with another test.
func OwnDataDir(t testing.TB, args []string) []string {
	if hasFlag(args, "--data-dir") {
		return args
	}
	return append(args[:len(args):len(args)], "--data-dir", t.TempDir())
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// GetJSON fetches path from the sidecar and decodes the JSON answer.
func (s *Sidecar) GetJSON(t testing.TB, path string, v any) int {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), fmt.Sprintf("GET %s", path))
	return resp.StatusCode
}

// Buffer collects a process's log lines; it may be written and read at
// once.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Listening copies a sidecar's JSON log (its stderr) into logs, line by
// line, and sends the address of its "listening" line on the channel it
// returns.
func Listening(stderr io.Reader, logs *Buffer) <-chan string {
	addr := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			line := scanner.Bytes()
			_, _ = logs.Write(append(append([]byte(nil), line...), '\n'))
			var entry struct{ Msg, Addr string }
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "listening" {
				select {
				case addr <- entry.Addr:
				default:
				}
			}
		}
	}()
	return addr
}
