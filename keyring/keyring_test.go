package keyring

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestSealRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("my-secret-key", "AKIDone")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("my-secret-key")) {
		t.Fatal("the sealed value contains the secret")
	}
	again, _ := s.Seal("my-secret-key", "AKIDone")
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}
	cases := []struct {
		name   string
		sealed []byte
		label  string
		key    []byte
		ok     bool
	}{
		{"right", sealed, "AKIDone", key, true},
		{"other label", sealed, "AKIDtwo", key, false},
		{"other key", sealed, "AKIDone", bytes.Repeat([]byte{8}, KeySize), false},
		{"tampered", append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "AKIDone", key, false},
		{"short", sealed[:5], "AKIDone", key, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := NewSealer(tc.key)
			got, err := s.Open(tc.sealed, tc.label)
			if tc.ok != (err == nil) || (tc.ok && got != "my-secret-key") {
				t.Fatalf("Open = %q, %v; want ok=%v", got, err, tc.ok)
			}
		})
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "secret.key")
	first, err := LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	second, err := LoadKey("", path)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("the key changed between runs: %v", err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))
	fromEnv, err := LoadKey(env, path)
	if err != nil || !bytes.Equal(fromEnv, bytes.Repeat([]byte{1}, KeySize)) {
		t.Fatalf("the environment key was not used: %v", err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("too short"))} {
		if _, err := LoadKey(bad, path); err == nil {
			t.Fatalf("bad key %q accepted", bad)
		}
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey("", path); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
}
