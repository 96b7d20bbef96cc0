package jobs

import (
	"crypto/sha256"
	"github.com/shopspring/decimal"

	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
)

// WriteIntent is one write a writes.apply job makes. It never holds a
// secret: a new account's password and SMS code wait in Secrets, in memory.
type WriteIntent struct {
	// Action is AllocateCustomerCredit, ForceQN, ModifyClientRemark,
	// ApproveClientApply, ApproveSubAgentApply, CreateAccount or
	// CreateAndSendClientInvitationMail.
	Action string
	// ClientUin is the customer, the applicant or the reseller applicant
	// the write is about; 0 for a new account and an invitation.
	ClientUin   uint64
	AddedCredit string `json:",omitempty"` // AllocateCustomerCredit: decimal amount, negative takes back
	Remark      string `json:",omitempty"` // AllocateCustomerCredit and ModifyClientRemark
	Type        *int64 `json:",omitempty"` // ForceQN: 2 suspends, 0 restores
	// ApproveType is "pass" or "reject" (ApproveClientApply, ApproveSubAgentApply).
	ApproveType  string `json:",omitempty"`
	RejectReason string `json:",omitempty"`
	// Email is the address of an invitation or a new account.
	Email string `json:",omitempty"`
	// InvitationRole is "Client" or "SubAgent" (an invitation).
	InvitationRole string `json:",omitempty"`
	// A new account (CreateAccount), without its secrets.
	AccountType  string `json:",omitempty"` // personal or company
	CountryCode  string `json:",omitempty"`
	Area         string `json:",omitempty"`
	PhoneNum     string `json:",omitempty"`
	TradeOne     string `json:",omitempty"`
	TradeTwo     string `json:",omitempty"`
	CustomerName string `json:",omitempty"`
	// SecretRef names the account's secrets in Secrets.
	SecretRef string `json:",omitempty"`
	// A credit allocation (AllocateCustomerCredit, AllocateCreditPool):
	// its idempotency key (SubmitWrites makes one when empty; the same key
	// is never allocated twice), and the target's credit and available
	// credit as the person saw them when confirming, for the ledger and,
	// for a pool, for reading the outcome back.
	Key             string `json:",omitempty"`
	CreditBefore    string `json:",omitempty"`
	RemainingBefore string `json:",omitempty"`
}

// Allocates reports whether the intent allocates credit, and to what
// (store.AllocationToCustomer or store.AllocationToPool).
func (w WriteIntent) Allocates() (string, bool) {
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit:
		return store.AllocationToCustomer, true
	case partnerapi.ActionAllocateCreditPool:
		return store.AllocationToPool, true
	}
	return "", false
}

// WriteParams are a writes.apply job's parameters.
type WriteParams struct {
	// AsReseller is the second-level reseller whose stored key the writes
	// are made with (its own customers); 0 for the distributor's key.
	AsReseller uint64 `json:",omitempty"`
	// Interactive: a person is waiting for the outcome, so the calls go
	// ahead of background jobs'.
	Interactive bool `json:",omitempty"`
	// Approval is the approval request whose second person let these
	// writes go; the gate checks it is approved, unused and for exactly
	// these writes.
	Approval int64 `json:",omitempty"`
}

// Limits of the intents' free text (the API's, where documented).
const (
	MaxRemark       = 200 // ModifyClientRemark, as the sandbox enforces
	MaxRejectReason = 200
	MaxEmail        = 254 // RFC 5321's path limit
	MaxKey          = 100 // an allocation's idempotency key
)

func checkText(what, s string, limit int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Errorf("%s is %d characters, more than %d", what, n, limit)
	}
	return nil
}

// Check refuses an intent the job could not carry out.
func (w WriteIntent) Check() error {
	needsUin := true
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit, partnerapi.ActionAllocateCreditPool:
		if _, err := partnerapi.NewAmount(w.AddedCredit); err != nil {
			return fmt.Errorf("credit amount: %w", err)
		}
		if err := checkText("remark", w.Remark, MaxRemark); err != nil {
			return err
		}
		if err := checkText("key", w.Key, MaxKey); err != nil {
			return err
		}
		if strings.Contains(w.Remark, MarkerPrefix) {
			return errors.New("a remark may not hold the portal's allocation marker")
		}
		if w.Action == partnerapi.ActionAllocateCreditPool && w.Remark != "" {
			return errors.New("a pool allocation takes no remark")
		}
	case partnerapi.ActionForceQN:
		if w.Type == nil || (*w.Type != 0 && *w.Type != 2) {
			return errors.New("ForceQN needs Type 0 (restore) or 2 (suspend)")
		}
	case partnerapi.ActionModifyClientRemark:
		if err := checkText("remark", w.Remark, MaxRemark); err != nil {
			return err
		}
	case partnerapi.ActionApproveClientApply, partnerapi.ActionApproveSubAgentApply:
		if w.ApproveType != "pass" && w.ApproveType != "reject" {
			return errors.New("an approval is pass or reject")
		}
		if w.ApproveType == "reject" && strings.TrimSpace(w.RejectReason) == "" {
			return errors.New("a rejection needs a reason")
		}
		if err := checkText("reason", w.RejectReason, MaxRejectReason); err != nil {
			return err
		}
	case partnerapi.ActionCreateAndSendClientInvitationMail:
		needsUin = false
		if w.InvitationRole != store.InvitationClient && w.InvitationRole != store.InvitationSubAgent {
			return errors.New("an invitation invites a Client or a SubAgent")
		}
		if w.Email == "" {
			return errors.New("an invitation needs an address")
		}
	case partnerapi.ActionCreateAccount:
		needsUin = false
		if w.Email == "" || w.PhoneNum == "" || w.CountryCode == "" {
			return errors.New("a new account needs an address, a country code and a mobile number")
		}
		if w.SecretRef == "" {
			return errors.New("a new account needs its secrets")
		}
	default:
		return fmt.Errorf("%q cannot be applied by a job", w.Action)
	}
	if needsUin && w.ClientUin == 0 {
		return errors.New("a UIN is needed")
	}
	if !needsUin && w.ClientUin != 0 {
		return fmt.Errorf("%s takes no UIN", w.Action)
	}
	if err := checkText("address", w.Email, MaxEmail); err != nil {
		return err
	}
	return nil
}

// key is what the item is about: the UIN, or the address for a new account
// or an invitation.
func (w WriteIntent) key() string {
	if w.ClientUin != 0 {
		return strconv.FormatUint(w.ClientUin, 10)
	}
	return strings.ToLower(w.Email)
}

// PlanWrites checks the intents and returns one item per write.
func PlanWrites(intents []WriteIntent) ([]Item, error) {
	items := make([]Item, 0, len(intents))
	for i, w := range intents {
		if err := w.Check(); err != nil {
			return nil, fmt.Errorf("write %d: %w", i+1, err)
		}
		payload, err := json.Marshal(w)
		if err != nil {
			return nil, err
		}
		items = append(items, Item{Key: w.key(), Payload: payload})
	}
	return items, nil
}

// AccountSecrets are what CreateAccount needs and the portal never stores.
type AccountSecrets struct {
	Password   string
	VerifyCode string
}

// secretsKeep is how long secrets wait for their job to send them.
const secretsKeep = 15 * time.Minute

// Secrets holds new accounts' secrets in memory until their write is sent.
// A restart loses them: the write then fails unsent, and the person types
// them again.
type Secrets struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]heldSecrets
}

type heldSecrets struct {
	AccountSecrets
	until time.Time
}

// NewSecrets returns an empty box; now is its clock (time.Now when nil).
func NewSecrets(now func() time.Time) *Secrets {
	if now == nil {
		now = time.Now
	}
	return &Secrets{now: now, m: map[string]heldSecrets{}}
}

// Put keeps secrets and returns the reference an intent carries.
func (s *Secrets) Put(v AccountSecrets) string {
	ref := rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, h := range s.m {
		if now.After(h.until) {
			delete(s.m, k)
		}
	}
	s.m[ref] = heldSecrets{AccountSecrets: v, until: now.Add(secretsKeep)}
	return ref
}

// Drop forgets secrets whose write will not be sent.
func (s *Secrets) Drop(ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, ref)
}

// take hands out secrets once.
func (s *Secrets) take(ref string) (AccountSecrets, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.m[ref]
	delete(s.m, ref)
	if !ok || s.now().After(h.until) {
		return AccountSecrets{}, false
	}
	return h.AccountSecrets, true
}

// CodeSecretsGone is the code of a new account that could not be sent
// because its password was no longer in memory (the portal restarted).
const CodeSecretsGone = "portal.SecretsGone"

// CodePoolUnread is a pool allocation's failure before its call: the pool
// could not be read (or its figure kept) first, so nothing was sent.
const CodePoolUnread = "portal.PoolUnread"

// ApplyWrites applies a list of writes, one at a time, in order.
type ApplyWrites struct {
	DB      *store.DB
	Secrets *Secrets // new accounts' secrets; nil refuses new accounts
	Now     func() time.Time
}

// Name is the stored kind name.
func (ApplyWrites) Name() string { return KindWrites }

// Writes is true: items change state at Tencent Cloud.
func (ApplyWrites) Writes() bool { return true }

// Concurrency is one: writes go in the order they were given.
func (ApplyWrites) Concurrency() int { return 1 }

// Acting reads the job's WriteParams.
func (ApplyWrites) Acting(j store.Job) (uint64, bool) {
	p, _ := ParamsOf(j)
	return p.AsReseller, p.Interactive
}

// ParamsOf returns a writes job's parameters.
func ParamsOf(j store.Job) (WriteParams, error) {
	var p WriteParams
	if len(j.Params) == 0 || string(j.Params) == "null" {
		return p, nil
	}
	err := json.Unmarshal(j.Params, &p)
	return p, err
}

// marker tags a credit allocation's remark with its job and item, and a
// digest of its idempotency key, so that reading the allocation history
// back can tell whether it was applied: job numbers start again in a new
// installation against the same partner account, keys do not. Intents
// recorded before keys existed keep the old tag.
func marker(job int64, seq int, key string) string {
	if key == "" {
		return fmt.Sprintf("[portal job %d/%d]", job, seq)
	}
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("[portal job %d/%d %x]", job, seq, sum[:4])
}

// MarkerPrefix starts every allocation marker; a remark people type may not
// hold it, so that no remark can pass for another allocation's marker.
const MarkerPrefix = "[portal job"

// poolNote is what a pool allocation's item keeps while on the wire: the
// pool's total read just before the call.
type poolNote struct {
	PoolBefore string
}

// IntentOf returns a write item's intent.
func IntentOf(it store.JobItem) (WriteIntent, error) {
	var w WriteIntent
	if err := json.Unmarshal(it.Payload, &w); err != nil {
		return w, fmt.Errorf("write item %d: %w", it.Seq, err)
	}
	return w, w.Check()
}

// InvitationToken returns the token of an invitation link: its
// RegisterToken (or token) query parameter, else its last path segment.
func InvitationToken(link string) string {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return ""
	}
	q := u.Query()
	for _, name := range []string{"RegisterToken", "registerToken", "InvitationToken", "token"} {
		if v := q.Get(name); v != "" {
			return v
		}
	}
	if base := path.Base(u.Path); base != "/" && base != "." {
		return base
	}
	return ""
}

// Do sends the write.
func (a ApplyWrites) Do(ctx context.Context, c *partnerapi.Client, j store.Job, it store.JobItem) (Result, error) {
	w, err := IntentOf(it)
	if err != nil {
		return Result{}, err
	}
	var res Result
	summary := map[string]string{}
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit:
		amount, _ := partnerapi.NewAmount(w.AddedCredit)
		remark := strings.TrimSpace(w.Remark + " " + marker(j.ID, it.Seq, w.Key))
		r, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: w.ClientUin, AddedCredit: amount, Remark: remark})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
		summary["TotalCredit"], summary["RemainingCredit"] = r.TotalCredit.String(), r.RemainingCredit.String()
	case partnerapi.ActionAllocateCreditPool:
		// The pool's total now, noted before the call: an answer lost on
		// the way is read back against it.
		before, err := poolTotal(ctx, c, w.ClientUin)
		if err != nil {
			return Result{}, &NotSentError{Code: CodePoolUnread, Reason: err.Error()}
		}
		note, _ := json.Marshal(poolNote{PoolBefore: before.String()})
		if err := a.DB.WriteDetached(ctx, func(tx *store.Tx) error { return tx.NoteSentItem(ctx, j.ID, it.Seq, note) }); err != nil {
			return Result{}, &NotSentError{Code: CodePoolUnread, Reason: err.Error()}
		}
		amount, _ := partnerapi.NewAmount(w.AddedCredit)
		r, err := c.AllocateCreditPool(ctx, &partnerapi.AllocateCreditPoolRequest{SubAgentUin: int64(w.ClientUin), Credit: amount})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
		summary["TotalCredit"], summary["RemainingCredit"] = r.TotalCredit.String(), r.RemainingCredit.String()
	case partnerapi.ActionForceQN:
		r, err := c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: w.ClientUin, Type: uint64(*w.Type)})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
	case partnerapi.ActionModifyClientRemark:
		r, err := c.ModifyClientRemark(ctx, &partnerapi.ModifyClientRemarkRequest{ClientUin: strconv.FormatUint(w.ClientUin, 10), Remark: w.Remark})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
		summary["Remark"] = r.ClientRemark
	case partnerapi.ActionApproveClientApply:
		r, err := c.ApproveClientApply(ctx, &partnerapi.ApproveClientApplyRequest{ClientUin: int64(w.ClientUin), ApproveType: w.ApproveType, RejectReason: w.RejectReason})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
	case partnerapi.ActionApproveSubAgentApply:
		r, err := c.ApproveSubAgentApply(ctx, &partnerapi.ApproveSubAgentApplyRequest{SubAgentUin: int64(w.ClientUin), ApproveType: w.ApproveType, RejectReason: w.RejectReason})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
	case partnerapi.ActionCreateAndSendClientInvitationMail:
		r, err := c.CreateAndSendClientInvitationMail(ctx, &partnerapi.CreateAndSendClientInvitationMailRequest{Email: w.Email, InvitationRole: w.InvitationRole})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
		summary["InvitationLink"] = r.InvitationLink
		token := InvitationToken(r.InvitationLink)
		if token == "" {
			token = "request:" + r.RequestId // kept, though its state cannot be asked for
		}
		p, _ := ParamsOf(j)
		inv := store.Invitation{Token: token, Link: r.InvitationLink, Email: w.Email, Role: w.InvitationRole, PartnerUin: p.AsReseller,
			SentBy: j.OwnerID, SentByName: j.Owner, JobID: j.ID, RequestId: r.RequestId, CreatedAt: clockNow(a.Now)}
		res.Save = func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.AddInvitation(ctx, inv)
			return err
		}
	case partnerapi.ActionCreateAccount:
		var secrets AccountSecrets
		ok := false
		if a.Secrets != nil {
			secrets, ok = a.Secrets.take(w.SecretRef)
		}
		if !ok {
			return Result{}, &NotSentError{Code: CodeSecretsGone, Reason: "the password was not kept in memory: the portal restarted, or the form waited too long"}
		}
		r, err := c.CreateAccount(ctx, &partnerapi.CreateAccountRequest{
			AccountType: w.AccountType, Mail: w.Email, Password: secrets.Password, ConfirmPassword: secrets.Password,
			PhoneNum: w.PhoneNum, CountryCode: w.CountryCode, Area: w.Area, VerifyCode: secrets.VerifyCode,
			TradeOne: w.TradeOne, TradeTwo: w.TradeTwo, CustomerName: w.CustomerName,
		})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
		summary["Uin"], summary["Reason"] = r.Uin, r.Reason
	}
	if len(summary) > 0 {
		res.Summary, _ = json.Marshal(summary)
	}
	if res.Save == nil {
		// The customer's row shows the write's known effect, committed
		// with its outcome.
		src := watch.Source{Via: "allocation", Job: j.ID, RequestID: res.RequestID, Addr: "job " + strconv.FormatInt(j.ID, 10)}
		res.Save = func(ctx context.Context, tx *store.Tx) error { return applyToRow(ctx, tx, w, summary, src) }
	}
	return res, nil
}

// applyToRow records a successful write's known effect on the customer's
// row: its remark, its suspension, its credit as the answer gave it, which
// the low-credit watch evaluates (src says what read it). A customer the
// table does not hold yet is left to the next refresh.
func applyToRow(ctx context.Context, tx *store.Tx, w WriteIntent, summary map[string]string, src watch.Source) error {
	if w.ClientUin == 0 {
		return nil
	}
	switch w.Action {
	case partnerapi.ActionModifyClientRemark, partnerapi.ActionForceQN, partnerapi.ActionAllocateCustomerCredit:
	default:
		return nil
	}
	c, err := tx.CustomerByUin(ctx, w.ClientUin)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch w.Action {
	case partnerapi.ActionModifyClientRemark:
		c.Remark = w.Remark
		if r, ok := summary["Remark"]; ok {
			c.Remark = r
		}
	case partnerapi.ActionForceQN:
		c.Force = *w.Type
		if *w.Type == 2 {
			c.AccountStatus = "2"
		} else if c.AccountStatus == "2" {
			// Whether it still runs short of credit is for the next read
			// to tell.
			c.AccountStatus = ""
		}
	case partnerapi.ActionAllocateCustomerCredit:
		c.Credit, c.RemainingCredit = summary["TotalCredit"], summary["RemainingCredit"]
	}
	// FetchedAt stays: the row's other columns are as old as they were.
	if err := tx.UpsertCustomer(ctx, c); err != nil {
		return err
	}
	if w.Action != partnerapi.ActionAllocateCustomerCredit {
		return nil
	}
	// The answer's figures are as of now, newer than the row's other columns.
	_, err = watch.Observe(ctx, tx, []watch.Seen{{Uin: c.Uin, ResellerUin: c.ResellerUin, Credit: c.Credit, Remaining: c.RemainingCredit}}, src)
	return err
}

// Reconcile reads back whether an unknown write took effect: a credit
// allocation by its marker in the allocation history, a suspension or a
// remark by the customer's current state, an approval by the pending
// lists, a new account by its address among the customers. An invitation
// cannot be read back (the API finds invitations only by the token its
// answer carried), so its outcome stays unknown.
func (a ApplyWrites) Reconcile(ctx context.Context, c *partnerapi.Client, j store.Job, it store.JobItem) (Reconciled, error) {
	w, err := IntentOf(it)
	if err != nil {
		return StillUnknown, err
	}
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit:
		tag := marker(j.ID, it.Seq, w.Key)
		for h, err := range c.AllQueryCreditAllocationHistory(ctx, partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: w.ClientUin}) {
			if err != nil {
				return StillUnknown, fmt.Errorf("read allocation history of %d: %w", w.ClientUin, err)
			}
			// The marker ends the remark the portal sent.
			if strings.HasSuffix(strings.TrimSpace(h.Remark), tag) {
				return Applied, nil
			}
		}
		return NotApplied, nil
	case partnerapi.ActionAllocateCreditPool:
		var note poolNote
		if len(it.Result) == 0 || json.Unmarshal(it.Result, &note) != nil || note.PoolBefore == "" {
			// The pool is read and noted before the call: no note, no call.
			return NotApplied, nil
		}
		return poolNow(ctx, c, w, note.PoolBefore)
	case partnerapi.ActionForceQN, partnerapi.ActionModifyClientRemark:
		cu, found, err := customerNow(ctx, c, w.ClientUin)
		switch {
		case err != nil:
			return StillUnknown, err
		case !found:
			return StillUnknown, fmt.Errorf("customer %d not found while reconciling", w.ClientUin)
		case w.Action == partnerapi.ActionForceQN && cu.Force == *w.Type,
			w.Action == partnerapi.ActionModifyClientRemark && cu.Remark == w.Remark:
			return Applied, nil
		}
		return NotApplied, nil
	case partnerapi.ActionApproveClientApply:
		pending, err := stillPending(c.AllQueryPendingClientsV2(ctx, partnerapi.QueryPendingClientsV2Request{}),
			func(p partnerapi.QueryPendingCustomersItem) bool { return p.ClientUin == w.ClientUin })
		if err != nil || pending {
			return notIfPending(pending), err
		}
		_, bound, err := customerNow(ctx, c, w.ClientUin)
		if err != nil {
			return StillUnknown, err
		}
		return decided(w.ApproveType, bound), nil
	case partnerapi.ActionApproveSubAgentApply:
		pending, err := stillPending(c.AllQueryPendingSubAgentsV2(ctx, partnerapi.QueryPendingSubAgentsV2Request{}),
			func(p partnerapi.QueryPendingSubAgentsV2ResponseData) bool {
				return uint64(p.SubAgentUin) == w.ClientUin
			})
		if err != nil || pending {
			return notIfPending(pending), err
		}
		resp, err := c.QuerySubAgentsDetailV2(ctx, &partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 10,
			FilterType: "SubAgentUin", Filter: strconv.FormatUint(w.ClientUin, 10)})
		if err != nil {
			return StillUnknown, fmt.Errorf("read reseller %d: %w", w.ClientUin, err)
		}
		bound := false
		for _, d := range resp.Data {
			bound = bound || uint64(d.SubAgentUin) == w.ClientUin
		}
		return decided(w.ApproveType, bound), nil
	case partnerapi.ActionCreateAccount:
		found, err := accountByMail(ctx, c, w.Email)
		if err != nil {
			return StillUnknown, err
		}
		if found {
			return Applied, nil
		}
		return NotApplied, nil
	}
	return StillUnknown, nil
}

// poolTotal reads a reseller's pool total as the distributor sees it.
func poolTotal(ctx context.Context, c *partnerapi.Client, uin uint64) (decimal.Decimal, error) {
	resp, err := c.QuerySubAgentsDetailV2(ctx, &partnerapi.QuerySubAgentsDetailV2Request{Page: 1, PageSize: 10,
		FilterType: "SubAgentUin", Filter: strconv.FormatUint(uin, 10)})
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("read reseller %d: %w", uin, err)
	}
	for _, d := range resp.Data {
		if uint64(d.SubAgentUin) == uin {
			return d.Credit.Decimal(), nil
		}
	}
	return decimal.Decimal{}, fmt.Errorf("reseller %d not found", uin)
}

// poolNow reads a reseller's pool back after a pool allocation of unknown
// outcome. AllocateCreditPool takes no remark, so no marker can find it:
// the pool's total is compared with the one read just before the call.
// Only the distributor changes a pool and the portal sends one allocation
// per pool at a time, so that total plus the amount means it was applied
// and that total means it was not; anything else (a change made elsewhere
// meanwhile) stays unknown for a person to check.
func poolNow(ctx context.Context, c *partnerapi.Client, w WriteIntent, beforeText string) (Reconciled, error) {
	before, err := decimal.NewFromString(beforeText)
	if err != nil {
		return StillUnknown, fmt.Errorf("pool of %d: total before %q: %w", w.ClientUin, beforeText, err)
	}
	added, err := decimal.NewFromString(w.AddedCredit)
	if err != nil {
		return StillUnknown, err
	}
	now, err := poolTotal(ctx, c, w.ClientUin)
	switch {
	case err != nil:
		return StillUnknown, err
	case now.Equal(before.Add(added)):
		return Applied, nil
	case now.Equal(before):
		return NotApplied, nil
	}
	return StillUnknown, fmt.Errorf("pool of %d is %s: neither %s before nor %s after", w.ClientUin, now, before, before.Add(added))
}

// stillPending walks a pending list for the applicant.
func stillPending[T any](seq func(func(T, error) bool), match func(T) bool) (bool, error) {
	for p, err := range seq {
		if err != nil {
			return false, fmt.Errorf("read pending applications: %w", err)
		}
		if match(p) {
			return true, nil
		}
	}
	return false, nil
}

func notIfPending(pending bool) Reconciled {
	if pending {
		return NotApplied
	}
	return StillUnknown
}

// decided is an approval's verdict once the application is no longer
// pending: a pass took effect when the applicant is bound, a rejection
// when it is not.
func decided(approveType string, bound bool) Reconciled {
	if (approveType == "pass") == bound {
		return Applied
	}
	return NotApplied
}

// customerNow reads one customer's current state from the partner's list.
func customerNow(ctx context.Context, c *partnerapi.Client, uin uint64) (partnerapi.QueryCustomersCreditData, bool, error) {
	resp, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{
		FilterType: "ClientUin", Filter: strconv.FormatUint(uin, 10), Page: 1, PageSize: 10,
	})
	if err != nil {
		return partnerapi.QueryCustomersCreditData{}, false, fmt.Errorf("read customer %d: %w", uin, err)
	}
	for _, cu := range resp.Data {
		if cu.ClientUin == uin {
			return cu, true, nil
		}
	}
	return partnerapi.QueryCustomersCreditData{}, false, nil
}

// accountByMail reports whether a customer with the address exists: the
// list masks addresses, so its matches are checked in full by
// DescribeCustomerInfo.
func accountByMail(ctx context.Context, c *partnerapi.Client, mail string) (bool, error) {
	var uins []int64
	for cu, err := range c.AllQueryCustomersCredit(ctx, partnerapi.QueryCustomersCreditRequest{FilterType: "Email", Filter: mail}) {
		if err != nil {
			return false, fmt.Errorf("look for %s among the customers: %w", mail, err)
		}
		uins = append(uins, int64(cu.ClientUin))
	}
	for len(uins) > 0 {
		n := min(len(uins), infoBatch)
		info, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: uins[:n]})
		if err != nil {
			return false, fmt.Errorf("read the customers matching %s: %w", mail, err)
		}
		for _, d := range info.Data {
			if strings.EqualFold(strings.TrimSpace(d.Email), strings.TrimSpace(mail)) {
				return true, nil
			}
		}
		uins = uins[n:]
	}
	return false, nil
}

func clockNow(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}
