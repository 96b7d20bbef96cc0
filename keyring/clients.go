package keyring

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Target is where the portal's partner API calls go.
type Target string

// The two targets.
const (
	Sandbox      Target = store.TargetSandbox      // the built-in sandbox of the partner API
	TencentCloud Target = store.TargetTencentCloud // Tencent Cloud's partner API
)

// TargetSetting is the settings key that records the chosen target.
const TargetSetting = "partner_api.target"

// Endpoint is one target's address and the distributor key used while
// none is stored for it (from the environment, or the sandbox's own).
type Endpoint struct {
	Host     string // host and port
	Scheme   string // "https", or "http" for the sandbox
	Fallback partnerapi.Credential
}

// Options configures a Keyring.
type Options struct {
	DB     *store.DB
	Sealer *Sealer
	// Client carries the limiters, transport and observer every client shares.
	Client partnerapi.Config
	// TencentCloud is Tencent Cloud's endpoint.
	TencentCloud Endpoint
	// Sandbox starts (once) and returns the built-in sandbox's endpoint; it
	// is called only when the sandbox is the target.
	Sandbox func() (Endpoint, error)
	// Forced, when set, is the target whatever the setting says (the
	// --sandbox flag).
	Forced Target
}

// Keyring keeps the partner API keys the portal acts with — the
// distributor's own and any second-level reseller's, sealed with AES-GCM
// before they reach the database — knows which target they are used
// against, and hands out API clients for them.
type Keyring struct {
	db      *store.DB
	sealer  *Sealer
	base    partnerapi.Config
	tencent Endpoint
	sandbox func() (Endpoint, error)
	forced  Target

	mu      sync.Mutex
	target  Target
	clients map[clientKey]*partnerapi.Client
}

type clientKey struct {
	host string
	cred partnerapi.Credential
}

// ErrNoCredential is returned when no credential is stored or configured.
var ErrNoCredential = errors.New("no partner API credential is configured")

// New returns a keyring on the target the settings name; without a setting,
// Tencent Cloud when its endpoint has a key from the environment, else the
// sandbox.
func New(ctx context.Context, opts Options) (*Keyring, error) {
	if opts.Client.Limiters == nil {
		opts.Client.Limiters = partnerapi.NewLimiters(1)
	}
	k := &Keyring{db: opts.DB, sealer: opts.Sealer, base: opts.Client, tencent: opts.TencentCloud, sandbox: opts.Sandbox,
		forced: opts.Forced, clients: map[clientKey]*partnerapi.Client{}}
	saved, err := opts.DB.Setting(ctx, TargetSetting)
	switch {
	case opts.Forced != "":
		k.target = opts.Forced
	case err == nil && (Target(saved) == Sandbox || Target(saved) == TencentCloud):
		k.target = Target(saved)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("read the partner API target: %w", err)
	case opts.TencentCloud.Fallback.SecretId != "":
		k.target = TencentCloud
	default:
		k.target = Sandbox
	}
	if k.target == Sandbox && k.sandbox == nil {
		return nil, errors.New("keyring: the sandbox is the target but none can be started")
	}
	return k, nil
}

// Target returns where calls go now.
func (k *Keyring) Target() Target {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.target
}

// Forced reports whether the target is fixed by the command line.
func (k *Keyring) Forced() bool { return k.forced != "" }

// Limiters returns the limiters every client of the keyring shares.
func (k *Keyring) Limiters() *partnerapi.Limiters { return k.base.Limiters }

// endpoint returns a target's endpoint, starting the sandbox when needed.
func (k *Keyring) endpoint(t Target) (Endpoint, error) {
	if t == Sandbox {
		if k.sandbox == nil {
			return Endpoint{}, errors.New("the sandbox is not available")
		}
		return k.sandbox()
	}
	return k.tencent, nil
}

// Host returns the host calls go to now, shown to admins.
func (k *Keyring) Host() string {
	ep, err := k.endpoint(k.Target())
	if err != nil {
		return ""
	}
	return ep.Host
}

// Distributor returns a client acting as the distributor on the current target.
func (k *Keyring) Distributor(ctx context.Context) (*partnerapi.Client, error) {
	return k.distributorOn(ctx, k.Target())
}

func (k *Keyring) distributorOn(ctx context.Context, t Target) (*partnerapi.Client, error) {
	ep, err := k.endpoint(t)
	if err != nil {
		return nil, err
	}
	cred, err := k.stored(ctx, t, store.CredentialDistributor, 0)
	if errors.Is(err, store.ErrNotFound) {
		cred = ep.Fallback
	} else if err != nil {
		return nil, err
	}
	if cred.SecretId == "" {
		return nil, ErrNoCredential
	}
	return k.client(ep, cred)
}

// ForSubagent returns a client acting for a second-level reseller: its own
// credential when one is stored (own is true), else the distributor's, in
// which case the portal itself must keep the reseller to its own customers.
func (k *Keyring) ForSubagent(ctx context.Context, subagentUin uint64) (c *partnerapi.Client, own bool, err error) {
	t := k.Target()
	cred, err := k.stored(ctx, t, store.CredentialSubagent, subagentUin)
	switch {
	case err == nil:
		ep, err := k.endpoint(t)
		if err != nil {
			return nil, false, err
		}
		c, err := k.client(ep, cred)
		return c, true, err
	case errors.Is(err, store.ErrNotFound):
		c, err := k.distributorOn(ctx, t)
		return c, false, err
	}
	return nil, false, err
}

// InUse lists the SecretIds the portal calls with on the current target:
// the distributor's first, then each stored reseller's and customer's key.
func (k *Keyring) InUse(ctx context.Context) ([]string, error) {
	t := k.Target()
	var ids []string
	if c, err := k.distributorOn(ctx, t); err == nil {
		ids = append(ids, c.SecretID())
	}
	list, err := k.db.ListCredentials(ctx, string(t))
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if c.Kind == store.CredentialSubagent || c.Kind == store.CredentialCustomer {
			ids = append(ids, c.SecretId)
		}
	}
	return ids, nil
}

func (k *Keyring) stored(ctx context.Context, t Target, kind string, uin uint64) (partnerapi.Credential, error) {
	row, err := k.db.CredentialFor(ctx, string(t), kind, uin)
	if err != nil {
		return partnerapi.Credential{}, err
	}
	return k.open(row)
}

func (k *Keyring) open(row store.APICredential) (partnerapi.Credential, error) {
	key, err := k.sealer.Open(row.SecretKeyCipher, row.SecretId)
	if err != nil {
		return partnerapi.Credential{}, fmt.Errorf("stored %s credential %s: %w", row.Kind, partnerapi.MaskSecretID(row.SecretId), err)
	}
	return partnerapi.Credential{SecretId: row.SecretId, SecretKey: key}, nil
}

func (k *Keyring) client(ep Endpoint, cred partnerapi.Credential) (*partnerapi.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := clientKey{ep.Host, cred}
	if c, ok := k.clients[key]; ok {
		return c, nil
	}
	cfg := k.base
	cfg.Credential, cfg.Endpoint, cfg.Scheme = cred, ep.Host, ep.Scheme
	c, err := partnerapi.New(cfg)
	if err != nil {
		return nil, err
	}
	k.clients[key] = c
	return c, nil
}

// ErrNoResellerKey is returned when a second-level reseller's own API key is
// needed and none is stored: the distributor's key cannot read or change a
// reseller's customers, applications or invitations.
var ErrNoResellerKey = apperr.New(apperr.Unavailable, "", "partner.no_reseller_key")

// ActAs returns the client for acting as a partner: the distributor
// (reseller 0) or a second-level reseller, which needs its own stored key.
func (k *Keyring) ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error) {
	if reseller == 0 {
		return k.Distributor(ctx)
	}
	c, own, err := k.ForSubagent(ctx, reseller)
	switch {
	case err != nil:
		return nil, err
	case !own:
		return nil, ErrNoResellerKey.With(map[string]any{"Uin": reseller}).Because(fmt.Errorf("act as reseller %d", reseller))
	}
	return c, nil
}

// ErrNoCustomerKey is returned when a customer's own API key is needed and
// none is stored: what only a customer's credential may read cannot be
// read with a partner's.
var ErrNoCustomerKey = apperr.New(apperr.Unavailable, "", "partner.no_customer_key")

// ForCustomer returns a client acting as the customer itself, with its own
// key stored for the current target.
func (k *Keyring) ForCustomer(ctx context.Context, customerUin uint64) (*partnerapi.Client, error) {
	t := k.Target()
	cred, err := k.stored(ctx, t, store.CredentialCustomer, customerUin)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoCustomerKey.With(map[string]any{"Uin": customerUin}).Because(fmt.Errorf("act as customer %d", customerUin))
	}
	if err != nil {
		return nil, err
	}
	ep, err := k.endpoint(t)
	if err != nil {
		return nil, err
	}
	return k.client(ep, cred)
}

// HasCustomerKey reports whether a customer's own key is stored for the
// current target.
func (k *Keyring) HasCustomerKey(ctx context.Context, customerUin uint64) (bool, error) {
	_, err := k.db.CredentialFor(ctx, string(k.Target()), store.CredentialCustomer, customerUin)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ActingFor returns the client the actor's own business goes through and
// the partner it acts as: the distributor's key for the partner's people
// (reseller 0), the reseller's own key for a subagent login.
func (k *Keyring) ActingFor(ctx context.Context, actor audit.Actor) (*partnerapi.Client, uint64, error) {
	reseller := actor.OnBehalfOf()
	c, err := k.ActAs(ctx, reseller)
	return c, reseller, err
}
