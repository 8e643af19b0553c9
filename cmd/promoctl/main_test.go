package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"promoctl": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

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
	})
}
