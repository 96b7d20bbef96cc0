package keyring

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Credential kinds as the store records them.
const (
	KindDistributor = "distributor"
	KindSubagent    = "subagent"
)

// Keyring turns stored credentials into partner API clients.
type Keyring struct {
	db       *store.DB
	sealer   *Sealer
	base     partnerapi.Config     // endpoint, scheme, transport and limiters for every client
	fallback partnerapi.Credential // used for the distributor when none is stored

	mu      sync.Mutex
	clients map[partnerapi.Credential]*partnerapi.Client
}

// New returns a keyring. base carries everything but the credential;
// fallback is the distributor credential from the environment or the
// sandbox, used while none is stored.
func New(db *store.DB, sealer *Sealer, base partnerapi.Config, fallback partnerapi.Credential) *Keyring {
	if base.Limiters == nil {
		base.Limiters = partnerapi.NewLimiters(1)
	}
	return &Keyring{db: db, sealer: sealer, base: base, fallback: fallback, clients: map[partnerapi.Credential]*partnerapi.Client{}}
}

// ErrNoCredential is returned when no credential is stored or configured.
var ErrNoCredential = errors.New("no partner API credential is configured")

// Limiters returns the limiters every client of the keyring shares.
func (k *Keyring) Limiters() *partnerapi.Limiters { return k.base.Limiters }

// Distributor returns a client acting as the distributor.
func (k *Keyring) Distributor(ctx context.Context) (*partnerapi.Client, error) {
	cred, err := k.credential(ctx, KindDistributor, 0)
	if errors.Is(err, store.ErrNotFound) {
		cred = k.fallback
	} else if err != nil {
		return nil, err
	}
	if cred.SecretId == "" {
		return nil, ErrNoCredential
	}
	return k.client(cred)
}

// ForSubagent returns a client acting for a second-level reseller: its own
// credential when one is stored (own is true), else the distributor's, in
// which case the portal itself must keep the reseller to its own customers.
func (k *Keyring) ForSubagent(ctx context.Context, subagentUin uint64) (c *partnerapi.Client, own bool, err error) {
	cred, err := k.credential(ctx, KindSubagent, subagentUin)
	switch {
	case err == nil:
		c, err := k.client(cred)
		return c, true, err
	case errors.Is(err, store.ErrNotFound):
		c, err := k.Distributor(ctx)
		return c, false, err
	}
	return nil, false, err
}

// ClientFor returns a client for an explicit credential, for "test connection".
func (k *Keyring) ClientFor(cred partnerapi.Credential) (*partnerapi.Client, error) {
	return k.client(cred)
}

func (k *Keyring) credential(ctx context.Context, kind string, uin uint64) (partnerapi.Credential, error) {
	row, err := k.db.CredentialFor(ctx, kind, uin)
	if err != nil {
		return partnerapi.Credential{}, err
	}
	key, err := k.sealer.Open(row.SecretKeyCipher, row.SecretId)
	if err != nil {
		return partnerapi.Credential{}, fmt.Errorf("stored %s credential %s: %w", kind, partnerapi.MaskSecretID(row.SecretId), err)
	}
	return partnerapi.Credential{SecretId: row.SecretId, SecretKey: key}, nil
}

func (k *Keyring) client(cred partnerapi.Credential) (*partnerapi.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.clients[cred]; ok {
		return c, nil
	}
	cfg := k.base
	cfg.Credential = cred
	c, err := partnerapi.New(cfg)
	if err != nil {
		return nil, err
	}
	k.clients[cred] = c
	return c, nil
}

// Seal encrypts a SecretKey for storage beside its SecretId.
func (k *Keyring) Seal(secretID, secretKey string) ([]byte, error) {
	return k.sealer.Seal(secretKey, secretID)
}
