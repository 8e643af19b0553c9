// Package sidecartest builds the promoctl binary and runs `promoctl serve`
// on a free loopback port, for tests outside cmd/promoctl that talk to a
// real sidecar (the Go client examples, the provider's equivalence test).
package sidecartest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// Build compiles cmd/promoctl into a temporary directory and returns the
// binary's path.
func Build(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	gomod, err := exec.Command(goBin, "env", "GOMOD").Output() // #nosec G204 -- the go command from PATH, fixed arguments
	require.NoError(t, err)
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "promoctl")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/promoctl") // #nosec G204 -- the go command from PATH, a temporary output
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
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
	require.Eventually(t, func() bool {
		resp, err := http.Get(sc.URL + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close() // the status is all that is read
		return resp.StatusCode == http.StatusOK
	}, deadline, 20*time.Millisecond, "sidecar not ready; logs:\n%s", sc.logs)
	return sc
}

// StartUnready is Start without waiting for /readyz: for a repo that
// cannot load, whose sidecar listens but never becomes ready. Unless args
// name one, the sidecar's usage data directory is the test's own, never
// the user's state directory.
func StartUnready(t testing.TB, bin, repo string, args ...string) *Sidecar {
	t.Helper()
	if !hasFlag(args, "--data-dir") {
		args = append(args, "--data-dir", t.TempDir())
	}
	args = append([]string{"serve", "--repo", repo, "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(bin, args...) // #nosec G204 -- the binary Build made, the test's own arguments
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := &Sidecar{logs: &Buffer{}}
	addr := Listening(stderr, sc.logs)
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
	select {
	case a := <-addr:
		sc.URL = "http://" + a
	case <-time.After(deadline):
		t.Fatalf("sidecar did not start; logs:\n%s", sc.logs)
	}
	return sc
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
