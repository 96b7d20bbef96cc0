// Package keyring keeps the partner API credentials the portal acts with:
// the distributor's own, and any second-level reseller's, sealed with
// AES-GCM before they reach the database, and hands out API clients for them.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of the sealing key: AES-256.
const KeySize = 32

// Sealer encrypts and decrypts secrets at rest.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealing key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext; label binds the ciphertext to its use (for
// example the SecretId it belongs with), so a sealed key cannot be moved to
// another row unnoticed.
func (s *Sealer) Seal(plaintext, label string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(label)), nil
}

// Open decrypts what Seal made with the same label.
func (s *Sealer) Open(sealed []byte, label string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("open sealed secret: too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return "", errors.New("open sealed secret: wrong key or damaged data")
	}
	return string(plain), nil
}

// LoadKey returns the sealing key: from fromEnv (base64 of 32 bytes) when
// set, else from the file at path, which is created with mode 0600 and a
// fresh random key on first run.
func LoadKey(fromEnv, path string) ([]byte, error) {
	if fromEnv != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(fromEnv))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("PORTAL_SECRET_KEY must be the base64 of %d random bytes", KeySize)
		}
		return key, nil
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("key file %s is damaged: it must hold the base64 of %d bytes", path, KeySize)
		}
		return key, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new sealing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	// O_EXCL: two processes starting at once must not overwrite each other's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	return key, nil
}
