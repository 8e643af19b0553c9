package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContainerSoftLimit(t *testing.T) {
	tests := []struct {
		name   string
		v2, v1 string // file contents; "" means the file does not exist
		want   int64
	}{
		{name: "v2 limit", v2: "2147483648\n", want: 1932735283},
		{name: "v2 without limit", v2: "max\n", want: math.MaxInt64},
		{name: "v1 limit", v1: "1073741824\n", want: 966367641},
		{name: "v1 unlimited", v1: "9223372036854771712\n", want: math.MaxInt64},
		{name: "v2 wins over v1", v2: "2147483648\n", v1: "1073741824\n", want: 1932735283},
		{name: "not in a cgroup", want: math.MaxInt64},
		{name: "unreadable value", v2: "lots\n", want: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := []string{filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.limit_in_bytes")}
			for i, content := range []string{tt.v2, tt.v1} {
				if content != "" {
					require.NoError(t, os.WriteFile(files[i], []byte(content), 0o600))
				}
			}
			assert.Equal(t, tt.want, containerSoftLimit(files))
		})
	}
}

func TestSidecarMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "memory.max")}
	assert.Equal(t, sidecarSoftMemory, sidecarMemoryLimit(files), "no container limit: the sidecar's own budget")
	require.NoError(t, os.WriteFile(files[0], []byte("4294967296\n"), 0o600))
	assert.Equal(t, int64(3865470566), sidecarMemoryLimit(files), "a container limit decides, up or down")
	require.NoError(t, os.WriteFile(files[0], []byte("max\n"), 0o600))
	assert.Equal(t, sidecarSoftMemory, sidecarMemoryLimit(files))
}
