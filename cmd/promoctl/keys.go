package main

import (
	"crypto/ed25519"
	"os"

	"github.com/promoctl/promoctl/compiler/bundle"
)

// readSigningKey reads --sign-key ("" means no signature).
func readSigningKey(path string) (ed25519.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's own key file
	if err != nil {
		return nil, usageError("--sign-key: %v", err)
	}
	key, err := bundle.ParsePrivateKey(data)
	if err != nil {
		return nil, usageError("--sign-key %s: %v", path, err)
	}
	return key, nil
}

// readVerifyKey reads --verify-key ("" means none).
func readVerifyKey(path string) (ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's own key file
	if err != nil {
		return nil, usageError("--verify-key: %v", err)
	}
	key, err := bundle.ParsePublicKey(data)
	if err != nil {
		return nil, usageError("--verify-key %s: %v", path, err)
	}
	return key, nil
}
