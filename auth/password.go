// Package auth holds who may do what in the portal: password hashing, login
// throttling, roles and their permissions, and the per-customer check that
// keeps a second-level reseller's login to its own customers.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: RFC 9106's second recommended option (64 MiB, 3
// passes), with 2 lanes to match the small machines the portal runs on.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password the portal accepts.
const MinPasswordLength = 12

// ErrWeakPassword is returned for a password the policy refuses.
var ErrWeakPassword = errors.New("weak password")

// HashPassword returns an argon2id hash of password in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash. A malformed hash is
// an error, never a match.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("check password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("check password: unsupported argon2 version")
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false, fmt.Errorf("check password: parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("check password: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("check password: malformed key")
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DummyCheck spends the time of one password check, so that a login for an
// unknown user takes as long as one for a known user.
func DummyCheck(password string) {
	argon2.IDKey([]byte(password), make([]byte, argonSaltLen), argonTime, argonMemory, argonThreads, argonKeyLen)
}

// ValidatePassword applies the password policy: at least MinPasswordLength
// characters, not all of one kind, and not the user name.
func ValidatePassword(username, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return fmt.Errorf("%w: at least %d characters are needed", ErrWeakPassword, MinPasswordLength)
	}
	if strings.EqualFold(strings.TrimSpace(password), username) {
		return fmt.Errorf("%w: the password must differ from the user name", ErrWeakPassword)
	}
	var letters, others bool
	for _, r := range password {
		if unicode.IsLetter(r) {
			letters = true
		} else {
			others = true
		}
	}
	if !letters || !others {
		return fmt.Errorf("%w: mix letters with digits or symbols", ErrWeakPassword)
	}
	return nil
}

// RandomPassword returns a password of n (at least 2) characters from an
// alphabet without look-alike characters, for first-run and reset passwords.
func RandomPassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	const digits = "23456789"
	out := make([]byte, 0, n)
	buf := make([]byte, 64)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random password: %w", err)
		}
		for _, c := range buf {
			// Rejecting the top of the byte range keeps every character equally likely.
			if int(c) < 256-256%len(alphabet) && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	// Guarantee a letter and a digit so the result passes ValidatePassword.
	out[0] = alphabet[int(out[0])%24]
	out[n-1] = digits[int(out[n-1])%len(digits)]
	return string(out), nil
}
