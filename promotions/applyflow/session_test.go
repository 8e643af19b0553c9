package applyflow_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

const acme = "../../examples/acme"

// copyAcme copies the example repo into a fresh directory.
func copyAcme(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(acme)))
	return dir
}

func TestOpenRefusesAnInvalidRepo(t *testing.T) {
	fsys := fstest.MapFS{"features/f.yaml": {Data: []byte("kind: Feature\nkey: f\nname: F\ntype: purple\n")}}
	_, err := applyflow.Open(fsys, applyflow.Options{Validator: compiler.NewValidator(promotions.Limits{})})
	var invalid *applyflow.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.True(t, invalid.Before)
	require.NotEmpty(t, invalid.Diagnostics)
	assert.Equal(t, promotions.CodeSchema, invalid.Diagnostics[0].Code)
	assert.Equal(t, "features/f.yaml", invalid.Diagnostics[0].File)
	assert.Equal(t, 4, invalid.Diagnostics[0].Line)
}

func TestCheckRefusesAChangeThatBreaksTheRepo(t *testing.T) {
	s, err := applyflow.Open(os.DirFS(acme), applyflow.Options{Validator: compiler.NewValidator(promotions.Limits{})})
	require.NoError(t, err)
	_, src, err := s.Promotion("spring-api-boost")
	require.NoError(t, err)
	_, err = s.Check("promotions/spring-api-boost.yaml", src, []byte("kind: PromotionalEntitlement\nid: spring-api-boost\n"), nil, false)
	var invalid *applyflow.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.False(t, invalid.Before)
	assert.True(t, invalid.Diagnostics.HasErrors())
}

func TestSessionErrors(t *testing.T) {
	s, err := applyflow.Open(os.DirFS(acme), applyflow.Options{Validator: compiler.NewValidator(promotions.Limits{})})
	require.NoError(t, err)
	tests := []struct {
		name  string
		run   func() error
		check func(t *testing.T, err error)
	}{
		{"unknown promotion names the known ones", func() error { _, _, err := s.Promotion("nope"); return err }, func(t *testing.T, err error) {
			var e *applyflow.UnknownPromotionError
			require.ErrorAs(t, err, &e)
			assert.Contains(t, e.Known, "spring-api-boost")
		}},
		{"create refuses an existing id", func() error {
			_, err := s.Create(promotions.Promotion{ID: "spring-api-boost", Feature: "api_calls"})
			return err
		}, func(t *testing.T, err error) {
			var e *applyflow.ExistsError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "promotions/spring-api-boost.yaml", e.File)
		}},
		{"create refuses an unknown feature", func() error {
			_, err := s.Create(promotions.Promotion{ID: "new", Feature: "nope"})
			return err
		}, func(t *testing.T, err error) {
			var e *applyflow.UnknownFeatureError
			require.ErrorAs(t, err, &e)
			assert.Contains(t, e.Known, "sso")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, tt.run()) })
	}
}

func TestCreateChecksTheNewFile(t *testing.T) {
	s, err := applyflow.Open(os.DirFS(acme), applyflow.Options{Validator: compiler.NewValidator(promotions.Limits{})})
	require.NoError(t, err)
	c, err := s.Create(promotions.Promotion{ID: "sso-trial", Name: "SSO trial", Feature: "sso", Status: promotions.StatusActive})
	require.NoError(t, err)
	assert.True(t, c.Created)
	assert.Equal(t, "promotions/sso-trial.yaml", c.File)
	assert.Contains(t, string(c.New), "feature_type: boolean")
}

func TestDiskWritesUnderTheLockOnlyWhatWasRead(t *testing.T) {
	dir := copyAcme(t)
	d, err := applyflow.OpenDisk(dir, compiler.NewValidator(promotions.Limits{}), time.Second, false)
	require.NoError(t, err)
	defer d.Close()

	_, err = applyflow.OpenDisk(dir, compiler.NewValidator(promotions.Limits{}), 10*time.Millisecond, false)
	require.ErrorIs(t, err, fsutil.ErrRepoLocked, "a second editor waits for the lock")

	apply, err := d.Apply("spring-api-boost", time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.NoError(t, apply.Revoke([]string{"cus_001"}))
	change, err := d.CheckApply(apply)
	require.NoError(t, err)

	path := filepath.Join(dir, change.File)
	require.NoError(t, os.WriteFile(path, append(append([]byte{}, change.Old...), "# edited meanwhile\n"...), 0o644))
	err = d.Write(change)
	var stale *applyflow.StaleError
	require.ErrorAs(t, err, &stale)
	require.True(t, errors.Is(err, fsutil.ErrChangedOnDisk), "got %v", err)
	assert.Contains(t, stale.Reason, change.File+" changed on disk")

	require.NoError(t, os.WriteFile(path, change.Old, 0o644))
	require.NoError(t, d.Write(change))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(change.New), string(got))
}

// The lock directory is created only in a directory that loads as a valid
// repo.
func TestOpenDiskCreatesNoLockDirWhereTheLoadFails(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"a sub-directory of a repo: references unknown here", map[string]string{
			"p.yaml": "kind: PromotionalEntitlement\nid: p\nname: P\nfeature: sso\nfeature_type: boolean\n"}},
		{"not YAML at all", map[string]string{"x.yaml": "kind: [\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
			}
			_, err := applyflow.OpenDisk(dir, compiler.NewValidator(promotions.Limits{}), time.Second, false)
			var invalid *applyflow.InvalidError
			require.ErrorAs(t, err, &invalid)
			assert.NoDirExists(t, filepath.Join(dir, fsutil.LockDir))
		})
	}
	// A valid repo without one gets it, with the lock.
	dir := copyAcme(t)
	require.NoError(t, os.RemoveAll(filepath.Join(dir, fsutil.LockDir)))
	d, err := applyflow.OpenDisk(dir, compiler.NewValidator(promotions.Limits{}), time.Second, false)
	require.NoError(t, err)
	d.Close()
	assert.FileExists(t, filepath.Join(dir, fsutil.LockDir, "lock"))
}
