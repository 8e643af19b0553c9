package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain runs the scenarios' promoctl in process and removes the binary
// the end-to-end tests share (sidecartest.Build).
func TestMain(m *testing.M) {
	testscript.Main(mainThenCleanup{m}, map[string]func(){
		"promoctl": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// mainThenCleanup runs the tests through sidecartest.Main.
type mainThenCleanup struct{ m *testing.M }

func (c mainThenCleanup) Run() int { return sidecartest.Main(c.m) }

// TestScripts runs every CLI scenario in testdata/script: one txtar file per
// scenario with its files, commands and expected output. Run with -update
// to rewrite expected output in place after an intended change.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			// Scenarios may copy the example repo with: cp-r $ACME dir
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("ACME", wd+"/../../examples/acme")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": exitCode,
			"hostile":  writeHostile,
			"mode":     fileMode,
			"mkfifo":   makeFIFO,
		},
	})
}

// makeFIFO makes a named pipe: mkfifo FILE.
func makeFIFO(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo FILE")
	}
	ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o644))
}

// exitCode runs a program and checks its exit code, which `! exec` does
// not: exitcode N prog args...
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		got = exit.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// fileMode checks a file's permission bits: mode FILE 0600.
func fileMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := info.Mode().Perm(); got != os.FileMode(want) {
		ts.Fatalf("%s has mode %#o, want %#o", args[0], got, want)
	}
}

// writeHostile writes a hostile config file that is too big or too binary
// to keep in a txtar archive: hostile KIND FILE, where KIND is garbage
// (random bytes behind an ELF header), deep (a feature key nested 10,000
// lists deep), nonutf8 (a Latin-1 é in a name), nul (a NUL byte in a
// name) or big (a valid feature padded with a 64 KiB comment).
func writeHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: hostile garbage|deep|nonutf8|nul|big FILE")
	}
	var data []byte
	switch args[0] {
	case "garbage":
		rng := rand.New(rand.NewPCG(1, 2))
		data = []byte{0x7f, 'E', 'L', 'F'}
		for i := 0; i < 64<<10; i++ {
			data = append(data, byte(rng.UintN(256)))
		}
	case "deep":
		data = []byte("kind: Feature\nkey: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n")
	case "nonutf8":
		data = []byte("kind: Feature\nkey: cafe\nname: \"Caf\xe9\"\ntype: boolean\n")
	case "nul":
		data = []byte("kind: Feature\nkey: nul\nname: \"a\x00b\"\ntype: boolean\n")
	case "big":
		data = []byte("kind: Feature\nkey: big\nname: Big\ntype: boolean\n# " + strings.Repeat("x", 64<<10) + "\n")
	default:
		ts.Fatalf("unknown hostile input %q", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o644))
}
