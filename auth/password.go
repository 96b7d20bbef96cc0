// Package auth holds who may do what in the portal: password hashing, login
// throttling, roles and their permissions, and the per-customer check that
// keeps a second-level reseller's login to its own customers.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Cost is the argon2id work of one password hash.
type Cost struct {
	MemoryKiB uint32 // memory per hash, in KiB
	Time      uint32 // passes over the memory
	Threads   uint8  // lanes
}

// ProductionCost is RFC 9106's second recommended option (64 MiB, 3
// passes), with 2 lanes to match the small machines the portal runs on.
var ProductionCost = Cost{MemoryKiB: 64 * 1024, Time: 3, Threads: 2}

// TestCost is a cost cheap enough for tests: the same algorithm and format,
// a thousandth of the memory.
var TestCost = Cost{MemoryKiB: 64, Time: 1, Threads: 1}

const (
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password the portal accepts.
const MinPasswordLength = 12

// MaxPasswordLength is the longest password the portal accepts, in bytes.
const MaxPasswordLength = 1024

// ErrWeakPassword is returned for a password the policy refuses.
var ErrWeakPassword = errors.New("weak password")

// ErrBusy is returned when no hashing slot freed up in time: the portal is
// checking as many passwords as its memory allows.
var ErrBusy = errors.New("too many password checks at once")

// HasherOptions configures a Hasher; zero fields take the defaults.
type HasherOptions struct {
	Cost Cost // ProductionCost when zero
	// MemoryBudget bounds the memory all hashes in flight may use at once;
	// 160 MiB when zero. It sets how many run at once (at least one).
	MemoryBudget int64
	// MaxWait is how long a check waits for a slot before ErrBusy; 10 s.
	MaxWait time.Duration
}

// Hasher hashes and checks passwords with argon2id, never more at once than
// its memory budget allows: each hash takes its cost's memory, and fifty
// sign-ins at once would otherwise take gigabytes.
type Hasher struct {
	cost    Cost
	slots   chan struct{}
	maxWait time.Duration
}

// NewHasher returns a hasher.
func NewHasher(opts HasherOptions) *Hasher {
	if opts.Cost == (Cost{}) {
		opts.Cost = ProductionCost
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 160 << 20
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 10 * time.Second
	}
	perHash := int64(opts.Cost.MemoryKiB) << 10
	n := int(max(1, min(opts.MemoryBudget/perHash, int64(runtime.NumCPU()))))
	return &Hasher{cost: opts.Cost, slots: make(chan struct{}, n), maxWait: opts.MaxWait}
}

// Concurrency is how many hashes the hasher runs at once.
func (h *Hasher) Concurrency() int { return cap(h.slots) }

// acquire waits for a hashing slot, at most MaxWait or until ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("wait to check a password: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns an argon2id hash of password in the PHC string format.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	c := h.cost
	key := argon2.IDKey([]byte(password), salt, c.Time, c.MemoryKiB, c.Threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.MemoryKiB, c.Time, c.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches hash, at the cost the hash names.
// A malformed hash is an error, never a match.
func (h *Hasher) Check(ctx context.Context, hash, password string) (bool, error) {
	p, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), p.salt, p.cost.Time, p.cost.MemoryKiB, p.cost.Threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

// Dummy spends the time (and takes the slot) of one check, so that a
// sign-in for an unknown user takes as long as one for a known user.
func (h *Hasher) Dummy(ctx context.Context, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	c := h.cost
	argon2.IDKey([]byte(password), make([]byte, argonSaltLen), c.Time, c.MemoryKiB, c.Threads, argonKeyLen)
	return nil
}

type parsedHash struct {
	cost      Cost
	salt, key []byte
}

// maxHashMemoryKiB refuses a stored hash that asks for absurd memory.
const maxHashMemoryKiB = 1 << 20

func parseHash(hash string) (parsedHash, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return parsedHash{}, errors.New("check password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return parsedHash{}, errors.New("check password: unsupported argon2 version")
	}
	var p parsedHash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.cost.MemoryKiB, &p.cost.Time, &p.cost.Threads); err != nil {
		return parsedHash{}, fmt.Errorf("check password: parameters: %w", err)
	}
	if p.cost.MemoryKiB == 0 || p.cost.MemoryKiB > maxHashMemoryKiB || p.cost.Time == 0 || p.cost.Threads == 0 {
		return parsedHash{}, errors.New("check password: parameters out of range")
	}
	b64 := base64.RawStdEncoding
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil {
		return parsedHash{}, fmt.Errorf("check password: salt: %w", err)
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) == 0 {
		return parsedHash{}, errors.New("check password: malformed key")
	}
	return p, nil
}

// ValidatePassword applies the password policy: at least MinPasswordLength
// characters, not all of one kind, and not the user name.
func ValidatePassword(username, password string) error {
	if len(password) > MaxPasswordLength {
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordLength)
	}
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
