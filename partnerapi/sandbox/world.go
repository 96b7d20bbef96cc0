package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// WorldOptions configures the generated world.
type WorldOptions struct {
	Seed      int64            // same seed (and same clock) => same world
	Customers int              // direct customers of the distributor; 200 when 0; at most 50,000
	Now       func() time.Time // the clock; time.Now when nil

	// NotAllowlisted lists the allowlisted actions no partner may call at
	// first (see partnerapi.RequiresAllowlist); the others are granted.
	NotAllowlisted []string
	// MailLimitScope is what the three-minute invitation mail limit counts
	// per; MailLimitPerAddress when empty.
	MailLimitScope MailLimitScope
}

// maxCustomers bounds WorldOptions.Customers.
const maxCustomers = 50_000

// Credential is one demo credential of the sandbox. The JSON names are a
// public contract.
type Credential struct {
	Role      string `json:"Role"`
	Uin       uint64 `json:"Uin"`
	Name      string `json:"Name"`
	SecretId  string `json:"SecretId"`
	SecretKey string `json:"SecretKey"`
}

// OutboxMessage is a mail or SMS the sandbox "sent". The JSON names are a
// public contract. SMS recipients are written "+<country code> <number>",
// for example "+852 61234567".
type OutboxMessage struct {
	Kind  string `json:"Kind"`
	To    string `json:"To"`
	Time  string `json:"Time"`
	Code  string `json:"Code,omitempty"`
	Link  string `json:"Link,omitempty"`
	Token string `json:"Token,omitempty"`
}

// World is the sandbox's state: partners, customers, credit, vouchers,
// applications, invitations and the messages sent. Bills are not stored:
// each (customer, month) is derived on demand from the seed. A World is safe
// for concurrent use.
type World struct {
	// mu guards the World: read-only actions (readActions) hold it shared,
	// so they run in parallel; everything else holds it exclusively.
	mu      sync.RWMutex
	seed    int64
	now     func() time.Time
	rng     *rand.Rand // runtime randomness: codes, tokens; seeded, so runs repeat
	actions map[string]actionFunc

	distributor   *partner
	subAgents     []*partner // in bind order
	partners      map[uint64]*partner
	customers     map[uint64]*customer
	nextUin       uint64 // next customer UIN to hand out
	nextAgent     uint64 // next second-level reseller UIN to hand out
	nextVoucherID int64
	genNow        time.Time // the clock's time when the world was generated

	credentials []Credential
	secrets     map[string]int // SecretId -> index in credentials

	pendingClients   []*applicant // customer applications, each with its partner
	pendingSubAgents []*applicant // second-level reseller applications to the distributor

	emails      map[string]bool        // registered mail addresses, lower case
	phoneUses   map[string]int         // "+cc number" -> accounts registered with it
	smsSent     map[string]smsRec      // "+cc number" -> the latest code sent
	smsDaily    map[string]smsDay      // "+cc number" -> codes sent on the latest day
	mailSent    map[string]time.Time   // lower-case address -> latest invitation to it
	mailSentBy  map[uint64]time.Time   // partner -> latest invitation it sent
	mailScope   MailLimitScope         // which of the two the three-minute limit uses
	invitations map[string]*invitation // by token
	outbox      []OutboxMessage

	// notAllowlisted holds the allowlisted actions refused to partners
	// created from now on (second-level resellers approved later); each
	// partner carries its own set.
	notAllowlisted map[string]bool

	files map[string]fileSpec // downloads offered, by name
	// generating are the reseller-side files being built, by name: asked
	// for once, not ready yet (see offerGenerated).
	generating map[string]bool

	bills billCache
}

// partner is the distributor or a second-level reseller.
type partner struct {
	uin          uint64
	role         partnerapi.Role
	name         string
	remark       string
	mobile       string
	email        string
	bindTime     time.Time
	credit       decimal.Decimal // total credit: the distributor's line, or a subagent's pool
	allocated    decimal.Decimal // credit given to customers (and, for the distributor, pools)
	voucherQuota decimal.Decimal
	customers    []uint64 // in association order, oldest first
	// byBind and byBindDesc hold the same customers in QueryCustomersCredit's
	// orders, by binding time oldest and newest first, customers bound at
	// the same time in association order: kept sorted as customers are bound
	// instead of sorting on every page. Only bindCustomer and indexByBind
	// change them.
	byBind, byBindDesc []*customer

	notAllowlisted map[string]bool // allowlisted actions this partner may not call
}

// customer is one end customer. Keep it small: a world may hold 50,000.
type customer struct {
	uin         uint64
	owner       uint64 // the partner it is bound to
	name        string
	email       string
	countryCode string
	mobile      string // without the country code
	remark      string
	company     bool
	identify    uint8 // 0 not verified, 1 individual, 2 enterprise
	credential  bool
	// creditStop is set when an allocation leaves the customer's available
	// credit at 0, which suspends its services until credit is added back.
	creditStop bool
	force      int64 // the forced-suspension setting of ForceQN: 0 or 2
	spend      int32 // typical monthly spend in US cents; 0 = no usage
	bindTime   time.Time
	regTime    time.Time
	credit     decimal.Decimal
	history    []allocation
	vouchers   []*voucher

	// expense caches firstExpense: the time (Unix seconds) of the first bill
	// row at or after binding when > 0; when < 0, -(m+1) for "no such row in
	// any month up to m"; 0 when not worked out yet. It never goes stale:
	// what fixes the bill plan (the seed, the UIN, the binding time, the
	// spend, the credential and whether there are vouchers) does not change
	// once the customer exists. Atomic, because read-only actions run in
	// parallel.
	expense atomic.Int64
}

// allocation is one credit allocation record.
type allocation struct {
	time     time.Time
	operator string
	added    decimal.Decimal
	after    decimal.Decimal // total credit after
	remain   decimal.Decimal // available credit after
	remark   string
}

// applicant is a pending application to become a customer or a
// second-level reseller.
type applicant struct {
	uin       uint64
	partner   uint64 // whom the application is addressed to
	name      string
	email     string
	country   string
	mobile    string
	company   bool
	applyTime time.Time
	material  string
	authState int64

	invitation string // the token of the invitation it came through, if any
	refusal    string // the binding error approval answers instead of binding, if any
}

// voucher is a customer's voucher.
type voucher struct {
	id          int64
	code        string
	owner       uint64
	status      string // Issued, Used, Expired, Invalidated
	total       decimal.Decimal
	remain      decimal.Decimal
	paymentMode string
	scope       string
	usage       string
	reason      string
	effective   time.Time
	expire      time.Time
}

// invitation is an invitation link sent by mail.
type invitation struct {
	token    string
	partner  uint64
	mail     string
	role     int64 // 1 second-level reseller, 2 customer
	material string
	created  time.Time

	used      time.Time // when the invited party accepted; zero while unused
	clientUin uint64    // who accepted
	bound     time.Time // when the partner approved the application; zero until then
}

// smsRec is the latest verification code sent to a phone.
type smsRec struct {
	code string
	sent time.Time
}

// smsDay counts the codes sent to a phone on one day (in the API's zone).
type smsDay struct {
	day   string // YYYY-MM-DD
	count int
}

// fileSpec describes an offered download; its content is built when fetched.
type fileSpec struct {
	kind      string // "bill", "customer-bill", "commission"
	uin       uint64 // the customer, or the partner for packs and commissions
	partner   uint64
	month     int
	fileType  string
	uinType   string
	requested time.Time
}

// NewWorld generates a world from the options.
func NewWorld(opts WorldOptions) (*World, error) {
	if opts.Customers < 0 || opts.Customers > maxCustomers {
		return nil, fmt.Errorf("new world: Customers must be between 0 and %d, got %d", maxCustomers, opts.Customers)
	}
	if opts.Customers == 0 {
		opts.Customers = 200
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	refused := map[string]bool{}
	for _, action := range opts.NotAllowlisted {
		if !partnerapi.RequiresAllowlist(action) {
			return nil, fmt.Errorf("new world: %q in NotAllowlisted is not an action that requires the allowlist (%v)", action, partnerapi.AllowlistedActions())
		}
		refused[action] = true
	}
	scope, err := parseMailLimitScope(string(opts.MailLimitScope))
	if err != nil {
		return nil, fmt.Errorf("new world: %w", err)
	}
	w := &World{
		seed:        opts.Seed,
		now:         opts.Now,
		rng:         rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed_c0de)),
		actions:     actionTable(),
		partners:    map[uint64]*partner{},
		customers:   make(map[uint64]*customer, opts.Customers+200),
		secrets:     map[string]int{},
		emails:      make(map[string]bool, opts.Customers+200),
		phoneUses:   make(map[string]int, opts.Customers+200),
		smsSent:     map[string]smsRec{},
		smsDaily:    map[string]smsDay{},
		mailSent:    map[string]time.Time{},
		mailSentBy:  map[uint64]time.Time{},
		mailScope:   scope,
		invitations: map[string]*invitation{},
		files:       map[string]fileSpec{},
		generating:  map[string]bool{},
		bills:       billCache{rows: map[billKey][]billRow{}},

		notAllowlisted: refused,
	}
	w.genNow = opts.Now()
	w.generate(opts.Customers, w.genNow)
	for _, p := range w.partners {
		p.notAllowlisted = maps.Clone(refused)
	}
	return w, nil
}

// Credentials returns the demo credentials: the distributor first, then the
// second-level resellers, then the customers.
func (w *World) Credentials() []Credential {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(w.credentials)
}

// LookupSecret returns the caller behind a SecretId and its secret key.
func (w *World) LookupSecret(secretId string) (Caller, string, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	i, ok := w.secrets[secretId]
	if !ok {
		return Caller{}, "", false
	}
	cr := w.credentials[i]
	role := partnerapi.RoleCustomer
	switch cr.Role {
	case partnerapi.RoleDistributor.String():
		role = partnerapi.RoleDistributor
	case partnerapi.RoleSubAgent.String():
		role = partnerapi.RoleSubAgent
	}
	return Caller{Role: role, Uin: cr.Uin, SecretId: cr.SecretId}, cr.SecretKey, true
}

// Outbox returns the messages sent so far, newest last.
func (w *World) Outbox() []OutboxMessage {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(w.outbox)
}

// Call runs one action for a caller whose request the core has already
// authenticated and validated. It returns the response object without
// RequestId, or an *apiError.
func (w *World) Call(c Caller, action string, body json.RawMessage) (resp any, err error) {
	fn, ok := w.actions[action]
	if !ok {
		return nil, errorf("InvalidAction", "The action %q does not exist in intlpartnersmgt 2022-09-28.", action)
	}
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	if readActions[action] {
		w.mu.RLock()
		defer w.mu.RUnlock()
	} else {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	if err := w.checkAllowlist(c, action); err != nil {
		return nil, err
	}
	defer func() {
		// A bug must not take the server down: the caller logs the panic
		// with its stack and answers InternalError, as the service would.
		if v := recover(); v != nil {
			resp, err = nil, &panicError{action: action, value: v, stack: debug.Stack()}
		}
	}()
	resp, err = fn(w, c, body)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// panicError is a panic inside an action handler, caught so that one bad
// call does not take the server down.
type panicError struct {
	action string
	value  any
	stack  []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("panic serving %s: %v", e.action, e.value)
}

// File returns the content of a download the world offered.
func (w *World) File(name string) ([]byte, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	spec, ok := w.files[name]
	if !ok {
		return nil, "", false
	}
	return w.renderFile(spec), "text/csv; charset=utf-8", true
}

// actionTable maps every action to its handler.
func actionTable() map[string]actionFunc {
	return map[string]actionFunc{
		partnerapi.ActionAllocateCreditPool:                     handle(allocateCreditPool),
		partnerapi.ActionAllocateCustomerCredit:                 handle(allocateCustomerCredit),
		partnerapi.ActionApproveClientApply:                     handle(approveClientApply),
		partnerapi.ActionApproveSubAgentApply:                   handle(approveSubAgentApply),
		partnerapi.ActionCreateAccount:                          handle(createAccount),
		partnerapi.ActionCreateAndSendClientInvitationMail:      handle(createAndSendClientInvitationMail),
		partnerapi.ActionDescribeBillDetail:                     handle(describeBillDetail),
		partnerapi.ActionDescribeBillDownloadUrl:                handle(describeBillDownloadUrl),
		partnerapi.ActionDescribeBillSummary:                    handle(describeBillSummary),
		partnerapi.ActionDescribeBillSummaryByPayMode:           handle(describeBillSummaryByPayMode),
		partnerapi.ActionDescribeBillSummaryByProduct:           handle(describeBillSummaryByProduct),
		partnerapi.ActionDescribeBillSummaryByRegion:            handle(describeBillSummaryByRegion),
		partnerapi.ActionDescribeCustomerBillDetail:             handle(describeCustomerBillDetail),
		partnerapi.ActionDescribeCustomerBillDetailByDay:        handle(describeCustomerBillDetailByDay),
		partnerapi.ActionDescribeCustomerBillDownloadUrl:        handle(describeCustomerBillDownloadUrl),
		partnerapi.ActionDescribeCustomerBillSummary:            handle(describeCustomerBillSummary),
		partnerapi.ActionDescribeCustomerInfo:                   handle(describeCustomerInfo),
		partnerapi.ActionDescribeCustomerOwnCostExplorerFilter:  handle(describeCustomerOwnCostExplorerFilter),
		partnerapi.ActionDescribeCustomerOwnCostExplorerSummary: handle(describeCustomerOwnCostExplorerSummary),
		partnerapi.ActionDescribeCustomerOwnVoucherList:         handle(describeCustomerOwnVoucherList),
		partnerapi.ActionDescribeCustomerOwnVoucherUsageDetails: handle(describeCustomerOwnVoucherUsageDetails),
		partnerapi.ActionDescribeCustomerUin:                    handle(describeCustomerUin),
		partnerapi.ActionDescribeCustomerVoucherList:            handle(describeCustomerVoucherList),
		partnerapi.ActionDescribeCustomerVoucherUsageDetails:    handle(describeCustomerVoucherUsageDetails),
		partnerapi.ActionDescribeRebateDownloadUrl:              handle(describeRebateDownloadUrl),
		partnerapi.ActionForceQN:                                handle(forceQN),
		partnerapi.ActionGetCountryCodes:                        handle(getCountryCodes),
		partnerapi.ActionGetTradeConfigList:                     handle(getTradeConfigList),
		partnerapi.ActionModifyClientRemark:                     handle(modifyClientRemark),
		partnerapi.ActionQueryAccountVerificationStatus:         handle(queryAccountVerificationStatus),
		partnerapi.ActionQueryCreditAllocationHistory:           handle(queryCreditAllocationHistory),
		partnerapi.ActionQueryCreditByUinList:                   handle(queryCreditByUinList),
		partnerapi.ActionQueryCustomerBillingQuota:              handle(queryCustomerBillingQuota),
		partnerapi.ActionQueryCustomersCredit:                   handle(queryCustomersCredit),
		partnerapi.ActionQueryDirectCustomersCredit:             handle(queryDirectCustomersCredit),
		partnerapi.ActionQueryInvitationInfo:                    handle(queryInvitationInfo),
		partnerapi.ActionQueryPartnerCredit:                     handle(queryPartnerCredit),
		partnerapi.ActionQueryPendingClientsV2:                  handle(queryPendingClientsV2),
		partnerapi.ActionQueryPendingSubAgentsV2:                handle(queryPendingSubAgentsV2),
		partnerapi.ActionQueryPolicyProductListByCode:           handle(queryPolicyProductListByCode),
		partnerapi.ActionQuerySubAgentsDetailV2:                 handle(querySubAgentsDetailV2),
		partnerapi.ActionQueryT1IndirectCustomersDetail:         handle(queryT1IndirectCustomersDetail),
		partnerapi.ActionQueryVoucherAmountByUin:                handle(queryVoucherAmountByUin),
		partnerapi.ActionQueryVoucherListByUin:                  handle(queryVoucherListByUin),
		partnerapi.ActionQueryVoucherPool:                       handle(queryVoucherPool),
		partnerapi.ActionSendVerifyCode:                         handle(sendVerifyCode),
	}
}

// readActions are the actions whose handlers change nothing in the World
// (the bill cache and the per-customer caches guard themselves), so that
// World.Call runs them under the shared lock, in parallel. An action not
// listed here runs alone. The download-URL actions are reads for the API but
// record the file they offer, so they are not listed.
var readActions = map[string]bool{
	partnerapi.ActionDescribeBillDetail:                     true,
	partnerapi.ActionDescribeBillSummary:                    true,
	partnerapi.ActionDescribeBillSummaryByPayMode:           true,
	partnerapi.ActionDescribeBillSummaryByProduct:           true,
	partnerapi.ActionDescribeBillSummaryByRegion:            true,
	partnerapi.ActionDescribeCustomerBillDetail:             true,
	partnerapi.ActionDescribeCustomerBillDetailByDay:        true,
	partnerapi.ActionDescribeCustomerBillSummary:            true,
	partnerapi.ActionDescribeCustomerInfo:                   true,
	partnerapi.ActionDescribeCustomerOwnCostExplorerFilter:  true,
	partnerapi.ActionDescribeCustomerOwnCostExplorerSummary: true,
	partnerapi.ActionDescribeCustomerOwnVoucherList:         true,
	partnerapi.ActionDescribeCustomerOwnVoucherUsageDetails: true,
	partnerapi.ActionDescribeCustomerUin:                    true,
	partnerapi.ActionDescribeCustomerVoucherList:            true,
	partnerapi.ActionDescribeCustomerVoucherUsageDetails:    true,
	partnerapi.ActionGetCountryCodes:                        true,
	partnerapi.ActionGetTradeConfigList:                     true,
	partnerapi.ActionQueryAccountVerificationStatus:         true,
	partnerapi.ActionQueryCreditAllocationHistory:           true,
	partnerapi.ActionQueryCreditByUinList:                   true,
	partnerapi.ActionQueryCustomerBillingQuota:              true,
	partnerapi.ActionQueryCustomersCredit:                   true,
	partnerapi.ActionQueryDirectCustomersCredit:             true,
	partnerapi.ActionQueryInvitationInfo:                    true,
	partnerapi.ActionQueryPartnerCredit:                     true,
	partnerapi.ActionQueryPendingClientsV2:                  true,
	partnerapi.ActionQueryPendingSubAgentsV2:                true,
	partnerapi.ActionQueryPolicyProductListByCode:           true,
	partnerapi.ActionQuerySubAgentsDetailV2:                 true,
	partnerapi.ActionQueryT1IndirectCustomersDetail:         true,
	partnerapi.ActionQueryVoucherAmountByUin:                true,
	partnerapi.ActionQueryVoucherListByUin:                  true,
	partnerapi.ActionQueryVoucherPool:                       true,
}

// apiZone is the time zone of the times the API answers (UTC+08:00).
var apiZone = time.FixedZone("UTC+8", 8*3600)

const (
	apiTimeLayout = "2006-01-02 15:04:05"
	apiDateLayout = "2006-01-02"
)

// apiTime formats a time the way the API does.
func apiTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(apiZone)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(apiTimeLayout)
	}
	// What Format(apiTimeLayout) writes, without parsing the layout: it is
	// on every row of every page.
	hour, minute, sec := t.Clock()
	var b [len(apiTimeLayout)]byte
	put := func(at, v, digits int) {
		for i := at + digits - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = ' '
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, sec, 2)
	return string(b[:])
}

// clock returns the current time from the injected clock.
func (w *World) clock() time.Time { return w.now() }

// partnerOf returns the partner a caller acts as, or an error when the
// caller is not a partner of this world.
func (w *World) partnerOf(c Caller) (*partner, error) {
	p, ok := w.partners[c.Uin]
	if !ok || (c.Role != partnerapi.RoleDistributor && c.Role != partnerapi.RoleSubAgent) {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "The caller %d is not a partner and cannot call this action.", c.Uin)
	}
	return p, nil
}

// ownCustomer returns the caller's customer with the given UIN, or
// UnauthorizedOperation.NotCustomerUin.
func (w *World) ownCustomer(c Caller, uin uint64) (*customer, error) {
	if _, err := w.partnerOf(c); err != nil {
		return nil, err
	}
	cu, ok := w.customers[uin]
	if !ok || cu.owner != c.Uin {
		return nil, errorf("UnauthorizedOperation.NotCustomerUin", "The UIN %d is not a customer of the caller %d.", uin, c.Uin)
	}
	return cu, nil
}

// ownCustomerSigned is ownCustomer for int64 UIN members.
func (w *World) ownCustomerSigned(c Caller, uin int64) (*customer, error) {
	if uin <= 0 {
		return nil, errorf("UnauthorizedOperation.NotCustomerUin", "The UIN %d is not a customer of the caller %d.", uin, c.Uin)
	}
	return w.ownCustomer(c, uint64(uin))
}

// self returns the customer behind an end-customer credential.
func (w *World) self(c Caller) (*customer, error) {
	cu, ok := w.customers[c.Uin]
	if !ok || c.Role != partnerapi.RoleCustomer {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "The caller %d is not an end customer and cannot call this action.", c.Uin)
	}
	return cu, nil
}

// bindCustomer adds a newly bound customer to the partner's customers, last
// in association order, and to both binding-time orders, after the
// customers bound at the same time.
func (p *partner) bindCustomer(cu *customer) {
	p.customers = append(p.customers, cu.uin)
	i, _ := slices.BinarySearchFunc(p.byBind, cu.bindTime, func(e *customer, t time.Time) int {
		if e.bindTime.After(t) {
			return 1
		}
		return -1
	})
	p.byBind = slices.Insert(p.byBind, i, cu)
	j, _ := slices.BinarySearchFunc(p.byBindDesc, cu.bindTime, func(e *customer, t time.Time) int {
		if e.bindTime.Before(t) {
			return 1
		}
		return -1
	})
	p.byBindDesc = slices.Insert(p.byBindDesc, j, cu)
}

// indexByBind builds the partner's binding-time orders from its customers.
func (p *partner) indexByBind(customers map[uint64]*customer) {
	p.byBind = make([]*customer, len(p.customers))
	for i, uin := range p.customers {
		p.byBind[i] = customers[uin]
	}
	p.byBindDesc = slices.Clone(p.byBind)
	slices.SortStableFunc(p.byBind, func(a, b *customer) int { return a.bindTime.Compare(b.bindTime) })
	slices.SortStableFunc(p.byBindDesc, func(a, b *customer) int { return b.bindTime.Compare(a.bindTime) })
}

// send records a message in the outbox.
func (w *World) send(m OutboxMessage) {
	w.outbox = append(w.outbox, m)
}

// pageRange returns the slice bounds of a 1-based page over total items.
// Page 0 counts as 1, size 0 as def; a page past the end is empty.
func pageRange(total int, page, size, def int64) (int, int) {
	if page < 1 {
		page = 1
	}
	if size < 1 {
		size = def
	}
	lo := (page - 1) * size
	if lo >= int64(total) || lo < 0 {
		return total, total
	}
	hi := lo + size
	if hi > int64(total) {
		hi = int64(total)
	}
	return int(lo), int(hi)
}
