// Package redistest runs a real redis-server for tests: on a free loopback
// port, in the test's temporary directory, with every write fsynced to its
// append-only file (so a SIGKILL loses nothing it acknowledged), and able to
// be killed and restarted on the same port and data.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Server is one redis-server process the test owns.
type Server struct {
	t     testing.TB
	bin   string
	dir   string
	Port  int
	cmd   *exec.Cmd
	fsync string
}

// Options configure a server. The zero value is what the fault tests need.
type Options struct {
	// AppendFsync is redis-server's appendfsync: "always" (the default:
	// a SIGKILL loses nothing acknowledged) or "everysec" (what Redis
	// recommends when up to a second of writes may be lost to a crash of
	// the machine), for benchmarks of both.
	AppendFsync string
}

// Start runs redis-server for the test and stops it when the test ends. The
// test is skipped when redis-server is not installed and PROMOCTL_REQUIRE_REDIS
// is unset; make test installs it and sets that variable, so there it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.AppendFsync == "" {
		opts.AppendFsync = "always"
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PROMOCTL_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server is not installed (make test installs it): %v", err)
		}
		t.Skip("redis-server is not installed; make test installs it")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), Port: freePort(t), fsync: opts.AppendFsync}
	s.run()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(s.dir, "redis.log")); err == nil {
				t.Logf("redis-server log:\n%s", log)
			}
		}
	})
	return s
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

func (s *Server) run() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, // #nosec G204 -- the redis-server found on PATH, on the test's own port and directory
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port), "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", s.fsync,
		"--protected-mode", "no", "--loglevel", "warning")
	logFile, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatalf("redis-server log: %v", err)
	}
	defer logFile.Close()
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.Addr()) == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer within 10 s", s.Addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (s *Server) Kill() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and data after Kill.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.Kill()
	}
	s.run()
}

func (s *Server) stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply %q", buf[:n])
	}
	return nil
}
