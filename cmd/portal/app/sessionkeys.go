package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// sessionKeys returns the cookie signing keys, newest first: from
// PORTAL_SESSION_KEYS (comma-separated base64) when set, else from the
// file at path, which first run creates with one random key. To rotate, put
// a new key on the first line and remove the old one a session lifetime later.
func sessionKeys(fromEnv, path string) ([][]byte, error) {
	text := fromEnv
	if text == "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			text = string(b)
		case errors.Is(err, os.ErrNotExist):
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return nil, fmt.Errorf("new session key: %w", err)
			}
			text = base64.StdEncoding.EncodeToString(key)
			if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write session key file: %w", err)
			}
		default:
			return nil, fmt.Errorf("read session key file: %w", err)
		}
	}
	var keys [][]byte
	for _, field := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
		k, err := base64.StdEncoding.DecodeString(field)
		if err != nil || len(k) < 32 {
			return nil, errors.New("session keys must be base64 of at least 32 random bytes each")
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no session signing key")
	}
	return keys, nil
}
