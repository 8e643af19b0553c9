package bundle

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
)

// PEM block types of promoctl's keys: PKCS #8 and PKIX, as openssl writes
// them (`openssl genpkey -algorithm ed25519` keys work too).
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// signingContext separates bundle signatures from anything else the same
// key might sign.
const signingContext = "promoctl bundle signature v1\x00"

// GenerateKey returns a new ed25519 key pair in PEM.
func GenerateKey() (privatePEM, publicPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: privDER}),
		pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: pubDER}), nil
}

// ParsePrivateKey reads an ed25519 private key in PEM (PKCS #8).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemPrivate {
		return nil, fmt.Errorf("not a PEM %q block", pemPrivate)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, not ed25519", key)
	}
	return priv, nil
}

// ParsePublicKey reads an ed25519 public key in PEM (PKIX).
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemPublic {
		return nil, fmt.Errorf("not a PEM %q block", pemPublic)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, not ed25519", key)
	}
	return pub, nil
}

// KeyID names a public key: "ed25519:" and the first 16 hex digits of the
// SHA-256 of the key. A signed bundle stores the whole hash, so a reader
// with another key can say which key signed it.
func KeyID(pub ed25519.PublicKey) string { return keyIDString(keyHash(pub)) }

func keyHash(pub ed25519.PublicKey) [keyIDSize]byte { return sha256.Sum256(pub) }

func keyIDString(h [keyIDSize]byte) string { return "ed25519:" + hex.EncodeToString(h[:8]) }

func signedMessage(hash []byte) []byte {
	return append([]byte(signingContext), hash...)
}
