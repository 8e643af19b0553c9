// Command hello is the smallest Go service with the in-process provider:
// it reads a bundle (`promoctl build`) and asks one flag. Its imports hold
// no YAML parser, CUE or git; docs/go.md gives its binary size.
//
//	go run ./examples/clients/go/hello acme.bundle cus_005
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/open-feature/go-sdk/openfeature"

	promoctl "github.com/promoctl/promoctl/openfeature"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: hello BUNDLE CUSTOMER")
	}
	provider := promoctl.NewBundle(args[0], promoctl.BundleOptions{}, promoctl.Options{})
	if err := openfeature.SetProviderAndWait(provider); err != nil {
		return err
	}
	defer openfeature.Shutdown()
	client := openfeature.NewDefaultClient()
	sso, err := client.BooleanValue(context.Background(), "sso", false, openfeature.NewEvaluationContext(args[1], nil))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s may use sso: %t\n", args[1], sso)
	return err
}
