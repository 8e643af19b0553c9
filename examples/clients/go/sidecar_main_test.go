package docs_test

import (
	"os"
	"testing"

	"github.com/promoctl/promoctl/internal/sidecartest"
)

// TestMain removes the promoctl binary the package's tests share.
func TestMain(m *testing.M) { os.Exit(sidecartest.Main(m)) }
