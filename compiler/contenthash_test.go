package compiler

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
)

func TestContentHashEqualsLoadRevision(t *testing.T) {
	fsys := os.DirFS("../examples/acme")
	res, err := Load(fsys, Options{})
	require.NoError(t, err)
	hash, size, err := ContentHash(fsys, promotions.Limits{})
	require.NoError(t, err)
	assert.Equal(t, res.ContentHash, hash)
	assert.Positive(t, size)
}
