// Package openfeature is an OpenFeature provider for the Go SDK
// (github.com/open-feature/go-sdk) that decides in-process: it holds the
// compiled snapshot a promoctl sidecar would serve, reloads it the way the
// sidecar does (watch a path or poll; a reload that fails leaves the last
// good snapshot answering), and answers with the values, reasons, variants,
// metadata and error codes of the sidecar's OFREP routes (package
// evaluator/ofrep holds that mapping for both). Decide gives the full
// decision, sources included, to code that wants more than a flag value.
//
// NewBundle decides from a bundle (`promoctl build`), a file or a URL;
// New takes any store.Loader. The package carries no parser: sub-package
// reposource adds repo directories, and with them the YAML parser, CUE and
// go-git. When to embed the provider and when to run the sidecar:
// docs/go.md.
package openfeature
