package keyring

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Input is an API key as an admin types it in.
type Input struct {
	Kind        string // store.CredentialDistributor or store.CredentialSubagent
	SubagentUin string // for a reseller's key
	Label       string
	SecretID    string
	SecretKey   string
}

// Field limits of the key form.
const (
	maxSecretLength = 128
	maxLabelLength  = 100
)

// Messages of the credential rules.
var (
	errBadKind         = apperr.InvalidField("kind", "credentials.bad_kind")
	errNeedID          = apperr.InvalidField("secret_id", "credentials.need_both")
	errNeedKey         = apperr.InvalidField("secret_key", "credentials.need_both")
	errBadSecret       = apperr.InvalidField("secret_id", "credentials.bad_secret")
	errNeedUin         = apperr.InvalidField("subagent_uin", "credentials.need_uin")
	errNeedCustomerUin = apperr.InvalidField("subagent_uin", "credentials.need_customer_uin")
	errUinOnlySubagent = apperr.InvalidField("subagent_uin", "credentials.uin_only_subagent")
	errBadLabel        = apperr.InvalidField("label", "credentials.bad_label")
	errOtherCustomer   = apperr.InvalidField("subagent_uin", "credentials.other_customer")
	// ErrKeyRefused wraps the partner API's refusal of a key under test.
	ErrKeyRefused    = apperr.New(apperr.Invalid, "secret_key", "credentials.test_failed")
	errNeedKeyFirst  = apperr.New(apperr.Invalid, "target", "credentials.need_key_first")
	errTargetForced  = apperr.New(apperr.Conflict, "target", "credentials.target_forced")
	errBadTarget     = apperr.InvalidField("target", "credentials.bad_target")
	errNotFound      = apperr.New(apperr.NotFound, "", "error.not_found")
	errForbidden     = apperr.New(apperr.Forbidden, "", "error.forbidden")
	errSealedUnusual = errors.New("stored credential cannot be opened")
)

// Check is what a successful key test read: the partner's remaining credit.
type Check struct {
	Remaining partnerapi.Amount
	RequestID string
}

func require(actor audit.Actor) error {
	if !actor.Can(auth.ManageCredentials) {
		return errForbidden
	}
	return nil
}

// List returns the current target's stored keys.
func (k *Keyring) List(ctx context.Context, actor audit.Actor) ([]store.APICredential, error) {
	if err := require(actor); err != nil {
		return nil, err
	}
	return k.db.ListCredentials(ctx, string(k.Target()))
}

// FallbackSecretID is the distributor key in use while none is stored for
// the current target (from the environment or the sandbox), or "".
func (k *Keyring) FallbackSecretID() string {
	ep, err := k.endpoint(k.Target())
	if err != nil {
		return ""
	}
	return ep.Fallback.SecretId
}

func parseInput(in Input) (store.APICredential, string, error) {
	c := store.APICredential{Kind: strings.TrimSpace(in.Kind), Label: strings.TrimSpace(in.Label), SecretId: strings.TrimSpace(in.SecretID)}
	key := strings.TrimSpace(in.SecretKey)
	var errs []error
	switch {
	case c.SecretId == "":
		errs = append(errs, errNeedID)
	case len(c.SecretId) > maxSecretLength || strings.ContainsFunc(c.SecretId, isSpaceOrControl):
		errs = append(errs, errBadSecret)
	}
	switch {
	case key == "":
		errs = append(errs, errNeedKey)
	case len(key) > maxSecretLength || strings.ContainsFunc(key, isSpaceOrControl):
		errs = append(errs, errBadSecret)
	}
	if len([]rune(c.Label)) > maxLabelLength || strings.ContainsFunc(c.Label, isControl) {
		errs = append(errs, errBadLabel)
	}
	uin := strings.TrimSpace(in.SubagentUin)
	switch c.Kind {
	case store.CredentialSubagent, store.CredentialCustomer:
		// A reseller's key names the reseller; a customer's, the customer.
		n, err := strconv.ParseUint(uin, 10, 64)
		switch {
		case (err != nil || n == 0) && c.Kind == store.CredentialCustomer:
			errs = append(errs, errNeedCustomerUin)
		case err != nil || n == 0:
			errs = append(errs, errNeedUin)
		}
		c.SubagentUin = n
	case store.CredentialDistributor:
		if uin != "" {
			errs = append(errs, errUinOnlySubagent)
		}
	default:
		errs = append(errs, errBadKind)
	}
	return c, key, errors.Join(errs...)
}

func isControl(r rune) bool        { return r < 0x20 || r == 0x7f }
func isSpaceOrControl(r rune) bool { return r == ' ' || isControl(r) }

// try asks the partner API for the partner's credit with a key on the
// current target: the cheapest call that proves the key works; a
// customer's key, which may not read a partner's credit, is asked for the
// customer's own billing quota instead, and for one of its own vouchers:
// a voucher of another UIN shows the key is another customer's. The client
// is not kept, so wrong keys leave nothing behind.
func (k *Keyring) try(ctx context.Context, t Target, kind string, uin uint64, cred partnerapi.Credential) (Check, error) {
	ep, err := k.endpoint(t)
	if err != nil {
		return Check{}, err
	}
	cfg := k.base
	cfg.Credential, cfg.Endpoint, cfg.Scheme = cred, ep.Host, ep.Scheme
	c, err := partnerapi.New(cfg)
	if err != nil {
		return Check{}, err
	}
	if kind == store.CredentialCustomer {
		resp, err := c.QueryCustomerBillingQuota(ctx, &partnerapi.QueryCustomerBillingQuotaRequest{})
		if err != nil {
			return Check{}, err
		}
		own, err := c.DescribeCustomerOwnVoucherList(ctx, &partnerapi.DescribeCustomerOwnVoucherListRequest{Page: 1, PageSize: 1})
		if err != nil {
			return Check{}, err
		}
		if len(own.Data) > 0 && uint64(own.Data[0].CustomerUin) != uin {
			return Check{}, errOtherCustomer.With(map[string]any{"Uin": own.Data[0].CustomerUin}).Because(
				fmt.Errorf("the key reads the vouchers of customer %d, not %d", own.Data[0].CustomerUin, uin))
		}
		return Check{Remaining: resp.Data.RemainingCredit, RequestID: resp.RequestId}, nil
	}
	resp, err := c.QueryPartnerCredit(ctx, nil)
	if err != nil {
		return Check{}, err
	}
	return Check{Remaining: resp.RemainingCredit, RequestID: resp.RequestId}, nil
}

// outcome fills an audit row's outcome from a partner API call's error.
func outcome(e store.AuditEntry, requestID string, err error) store.AuditEntry {
	e.RequestId = requestID
	if err != nil {
		e.Outcome, e.Code, e.RequestId = store.OutcomeFailed, partnerapi.ErrorCode(err), partnerapi.RequestID(err)
		switch {
		case errors.Is(err, errOtherCustomer):
			e.Code = "other_customer"
		case e.Code == "":
			e.Code = "unreachable"
		}
	}
	return e
}

// Save tests a key against the current target and, when the partner API
// accepts it, seals and stores it, replacing the key of the same kind (and
// reseller) at once — no restart. A key the API refuses is not stored: the
// error wraps ErrKeyRefused and the API's answer. Either way the attempt is
// audited, with the SecretId masked.
func (k *Keyring) Save(ctx context.Context, actor audit.Actor, in Input) (Check, error) {
	if err := require(actor); err != nil {
		return Check{}, err
	}
	c, key, err := parseInput(in)
	if err != nil {
		return Check{}, err
	}
	t := k.Target()
	c.Target = string(t)
	check, testErr := k.try(ctx, t, c.Kind, c.SubagentUin, partnerapi.Credential{SecretId: c.SecretId, SecretKey: key})
	entry := outcome(actor.Entry("credential.save", 0, credentialParams(c)), check.RequestID, testErr)
	if testErr != nil {
		if _, err := k.db.AppendAudit(ctx, entry); err != nil {
			return Check{}, err
		}
		if errors.Is(testErr, errOtherCustomer) {
			return Check{}, testErr // the UIN is at fault, not the key
		}
		return Check{}, ErrKeyRefused.Because(testErr)
	}
	if c.SecretKeyCipher, err = k.sealer.Seal(key, c.SecretId); err != nil {
		return Check{}, err
	}
	err = k.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if _, err := tx.SaveCredential(ctx, c); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, entry)
		return err
	})
	if err != nil {
		return Check{}, fmt.Errorf("save %s key %s: %w", c.Kind, partnerapi.MaskSecretID(c.SecretId), err)
	}
	return check, nil
}

func credentialParams(c store.APICredential) map[string]string {
	p := map[string]string{"kind": c.Kind, "secret_id": partnerapi.MaskSecretID(c.SecretId), "target": c.Target}
	if c.Label != "" {
		p["label"] = c.Label
	}
	if c.SubagentUin != 0 && c.Kind == store.CredentialCustomer {
		p["customer_uin"] = strconv.FormatUint(c.SubagentUin, 10)
	} else if c.SubagentUin != 0 {
		p["reseller_uin"] = strconv.FormatUint(c.SubagentUin, 10)
	}
	return p
}

func (k *Keyring) byID(ctx context.Context, id int64) (store.APICredential, error) {
	c, err := k.db.CredentialByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Target != string(k.Target())) {
		return store.APICredential{}, errNotFound
	}
	return c, err
}

// Delete removes a stored key of the current target.
func (k *Keyring) Delete(ctx context.Context, actor audit.Actor, id int64) error {
	if err := require(actor); err != nil {
		return err
	}
	c, err := k.byID(ctx, id)
	if err != nil {
		return err
	}
	return k.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteCredential(ctx, c.ID); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor.Entry("credential.delete", 0, credentialParams(c)))
		return err
	})
}

// Test tries a stored key again; a refusal (or silence) of the partner API
// is an error wrapping ErrKeyRefused and the API's answer.
func (k *Keyring) Test(ctx context.Context, actor audit.Actor, id int64) (Check, error) {
	if err := require(actor); err != nil {
		return Check{}, err
	}
	c, err := k.byID(ctx, id)
	if err != nil {
		return Check{}, err
	}
	cred, err := k.open(c)
	if err != nil {
		return Check{}, fmt.Errorf("%w: %w", errSealedUnusual, err)
	}
	check, testErr := k.try(ctx, Target(c.Target), c.Kind, c.SubagentUin, cred)
	p := credentialParams(c)
	if _, err := k.db.AppendAudit(ctx, outcome(actor.Entry("credential.test", 0, p), check.RequestID, testErr)); err != nil {
		return Check{}, err
	}
	if testErr != nil {
		return Check{}, ErrKeyRefused.Because(testErr)
	}
	return check, nil
}

// SetTarget switches where the portal's calls go. Tencent Cloud needs a
// distributor key for it (stored, or from the environment) that the API
// accepts right now; the switch takes effect at once and is audited.
func (k *Keyring) SetTarget(ctx context.Context, actor audit.Actor, t Target) error {
	if err := require(actor); err != nil {
		return err
	}
	if t != Sandbox && t != TencentCloud {
		return errBadTarget
	}
	if k.forced != "" && t != k.forced {
		return errTargetForced
	}
	entry := actor.Entry("api.target", 0, map[string]string{"target": string(t), "from": string(k.Target())})
	if t == TencentCloud {
		cred, err := k.stored(ctx, t, store.CredentialDistributor, 0)
		if errors.Is(err, store.ErrNotFound) {
			cred = k.tencent.Fallback
		} else if err != nil {
			return err
		}
		if cred.SecretId == "" {
			return errNeedKeyFirst
		}
		check, testErr := k.try(ctx, t, store.CredentialDistributor, 0, cred)
		entry = outcome(entry, check.RequestID, testErr)
		if testErr != nil {
			if _, err := k.db.AppendAudit(ctx, entry); err != nil {
				return err
			}
			return ErrKeyRefused.Because(testErr)
		}
	} else if _, err := k.endpoint(t); err != nil {
		return err
	}
	err := k.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.SetSetting(ctx, TargetSetting, string(t)); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, entry)
		return err
	})
	if err != nil {
		return fmt.Errorf("switch the partner API to %s: %w", t, err)
	}
	k.mu.Lock()
	k.target = t
	k.mu.Unlock()
	return nil
}
