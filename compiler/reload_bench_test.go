package compiler_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// benchRepo copies the generated repo of $PROMOCTL_BENCH_SIZE (default S)
// to a temporary directory the benchmark may change.
func benchRepo(b *testing.B) string {
	b.Helper()
	size := os.Getenv("PROMOCTL_BENCH_SIZE")
	if size == "" {
		size = "S"
	}
	src, err := repogen.Cached("", size, 1)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkColdLoad loads a generated repo without a cache.
func BenchmarkColdLoad(b *testing.B) {
	dir := benchRepo(b)
	for b.Loop() {
		repo := compiler.OpenDir(dir)
		res, err := compiler.Load(repo, compiler.Options{})
		_ = repo.Close()
		if err != nil || !res.OK() {
			b.Fatalf("load: %v %v", err, res.Diagnostics.Errors())
		}
	}
}

// BenchmarkReloadOneFile is a sidecar's reload after one promotion file
// changed: every file's stamp is checked, the changed one read and parsed.
func BenchmarkReloadOneFile(b *testing.B) {
	dir := benchRepo(b)
	files, err := compiler.ConfigFiles(os.DirFS(dir))
	if err != nil {
		b.Fatal(err)
	}
	var target string
	for _, f := range files {
		if filepath.Dir(f) == "promotions" {
			target = filepath.Join(dir, f)
			break
		}
	}
	orig, err := os.ReadFile(target)
	if err != nil {
		b.Fatal(err)
	}
	edited := append(bytes.Clone(orig), []byte("# edited\n")...)
	cache := compiler.NewCache()
	load := func() *compiler.Result {
		repo := compiler.OpenDir(dir)
		defer repo.Close()
		res, err := compiler.Load(repo, compiler.Options{Cache: cache})
		if err != nil || !res.OK() {
			b.Fatalf("load: %v %v", err, res.Diagnostics.Errors())
		}
		return res
	}
	load()
	i := 0
	for b.Loop() {
		content := orig
		if i%2 == 0 {
			content = edited
		}
		i++
		if err := os.WriteFile(target, content, 0o644); err != nil {
			b.Fatal(err)
		}
		if res := load(); res.Parsed > 1 {
			b.Fatalf("parsed %d files, want at most 1", res.Parsed)
		}
	}
}
