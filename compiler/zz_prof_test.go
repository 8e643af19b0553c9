package compiler_test

import (
	"os"
	"testing"
	"time"

	"github.com/promoctl/promoctl/compiler"
)

func TestZZProfileLoad(t *testing.T) {
	dir := os.Getenv("PROF_DIR")
	if dir == "" {
		t.Skip()
	}
	st := time.Now()
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load %v ok=%v files=%d", time.Since(st), res.OK(), res.Files)
}
