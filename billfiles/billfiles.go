// Package billfiles is the download of bill files from the partner API: a
// customer's bill file (DescribeCustomerBillDownloadUrl) and the partner's
// commission file (DescribeRebateDownloadUrl). Tencent Cloud builds a file
// after it is asked for and answers "not ready" until it is; the service
// keeps each request and asks again when the person checks, until the link
// is ready.
//
// The links are the vendor's and work for one hour (as the API documents),
// so they are held only in memory and only while they work: never in the
// database, never past their expiry, and gone when the portal restarts.
package billfiles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API client to act as a partner with: the
// distributor (0) or a second-level reseller with its own key.
type Clients interface {
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// OwnKeys gives the client acting as a customer with its own stored key.
type OwnKeys interface {
	ForCustomer(ctx context.Context, customerUin uint64) (*partnerapi.Client, error)
}

// Customers finds a customer the actor may see (its owner included), or a
// not-found error for one it may not.
type Customers interface {
	Row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error)
}

// Options holds what the service needs.
type Options struct {
	DB        *store.DB
	Clients   Clients
	Customers Customers
	// Own reads a customer's own bill file with its own key.
	Own OwnKeys
	Now func() time.Time // time.Now when nil
}

// Service keeps the bill file requests of the people using the portal.
type Service struct {
	db        *store.DB
	clients   Clients
	customers Customers
	own       OwnKeys
	now       func() time.Time

	mu    sync.Mutex
	files map[string]*File
}

// New returns the bill files service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: o.DB, clients: o.Clients, customers: o.Customers, own: o.Own, now: o.Now, files: map[string]*File{}}
}

// LinkLife is how long the portal offers a vendor link after the API
// answered it: the documented hour less a margin, so a person never clicks
// a link that has just stopped working.
const LinkLife = 55 * time.Minute

// RequestLife is how long a request still being generated is kept.
const RequestLife = time.Hour

// CheckEvery is the least time between two questions about one file: a
// page opened right after the request, or polled by several tabs, shows
// the latest answer rather than asking again.
const CheckEvery = 1500 * time.Millisecond

// MaxPerUser bounds the requests a person has open; the oldest goes first.
const MaxPerUser = 20

// Kinds of file.
const (
	KindBill       = "bill"       // a customer's bill file
	KindCommission = "commission" // the partner's commission file
	KindOwn        = "own"        // a customer's bill file as it sees it, with its own key
)

// States of a request.
const (
	Generating = "generating" // asked for; Tencent Cloud is building it
	Ready      = "ready"      // the link is ready and still works
	Expired    = "expired"    // the link stopped working; ask again
)

// The documented file types and languages of DescribeCustomerBillDownloadUrl.
var (
	FileTypes = []string{"billDetail", "billResource", "billDetailPack", "billResourcePack"}
	Languages = []string{"en", "zh_cn"}
	// Scopes are whose bills a bill package holds, for the partner's
	// people: its direct customers or its resellers' customers.
	Scopes = []string{"Customer", "ResellerCustomer"}
	// OwnFileTypes are DescribeBillDownloadUrl's: L2 a resource bill, L3 a
	// detailed bill.
	OwnFileTypes = []string{"L3", "L2"}
)

// IsPack reports whether a file type is a bill package, which covers every
// customer of a scope rather than one customer.
func IsPack(fileType string) bool {
	return fileType == "billDetailPack" || fileType == "billResourcePack"
}

// earliestMonth is the first month bills can be downloaded (documented).
const earliestMonth = "2022-06"

// Message ids of the service's errors.
const (
	msgForbidden = "billfiles.forbidden"
	msgNotFound  = "billfiles.not_found"
	msgBadMonth  = "billfiles.bad_month"
	msgOldMonth  = "billfiles.old_month"
	msgFuture    = "billfiles.future_month"
	msgBadType   = "billfiles.bad_type"
	msgBadLang   = "billfiles.bad_language"
	msgBadScope  = "billfiles.bad_scope"
	msgNoPack    = "billfiles.no_pack_for_reseller"
	msgNeedUin   = "billfiles.need_customer"
	msgNoUinPack = "billfiles.no_customer_for_pack"
	msgBadUin    = "billfiles.bad_customer"
	msgNoUin     = "billfiles.unknown_customer"
	msgRefused   = "billfiles.refused"
)

// Request is the bill file form as typed.
type Request struct {
	Customer string // the customer's UIN; "" for a bill package
	Month    string // YYYY-MM
	FileType string // one of FileTypes
	Language string // one of Languages; "" is English
	Scope    string // a package's scope (Scopes); "" is the direct customers
}

// File is a request for a file and where it stands.
type File struct {
	ID       string
	Kind     string
	Owner    int64 // the user who asked; nobody else sees it
	Uin      uint64
	Month    string
	FileType string
	Language string
	UinType  string
	State    string
	// URL is the vendor's link while State is Ready, "" otherwise.
	URL string
	// Expires is when the link stops being offered.
	Expires time.Time
	// RequestID is the API's RequestId of the latest answer.
	RequestID string
	// Err is why the latest check failed, if it did; the request stays.
	Err       error
	Requested time.Time
	Checked   time.Time

	// onBehalf is the reseller a delegated login asked for (0 for the
	// partner's people): the request is its, and no one else's.
	onBehalf uint64
}

var monthPattern = regexp.MustCompile(`^(20[0-9]{2})-(0[1-9]|1[0-2])$`)

// checkMonth checks a month for a download: well formed, not before the
// first downloadable month, not in the future.
func (s *Service) checkMonth(month string) error {
	switch {
	case !monthPattern.MatchString(month):
		return apperr.InvalidField("month", msgBadMonth)
	case month < earliestMonth:
		return apperr.InvalidField("month", msgOldMonth).With(map[string]any{"Month": earliestMonth})
	case month > s.now().UTC().Format("2006-01"):
		return apperr.InvalidField("month", msgFuture)
	}
	return nil
}

// RequestBill asks for a customer's bill file, or a bill package, and
// keeps the request for the actor: a reseller's customer is asked for as
// ResellerCustomer. A delegated login asks for its own customers only, one
// at a time. The request is audited with the API's answer.
func (s *Service) RequestBill(ctx context.Context, actor audit.Actor, in Request) (File, error) {
	if !mayView(actor, KindBill) {
		return File{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	f := File{Kind: KindBill, Owner: actor.UserID, Month: in.Month, FileType: in.FileType, Language: in.Language, UinType: "Customer",
		onBehalf: actor.OnBehalfOf()}
	if f.Language == "" {
		f.Language = "en"
	}
	errs := []error{s.checkMonth(in.Month)}
	if !slices.Contains(FileTypes, in.FileType) {
		errs = append(errs, apperr.InvalidField("type", msgBadType))
	}
	if !slices.Contains(Languages, f.Language) {
		errs = append(errs, apperr.InvalidField("language", msgBadLang))
	}
	switch {
	case IsPack(in.FileType):
		if in.Customer != "" {
			errs = append(errs, apperr.InvalidField("customer", msgNoUinPack))
		}
		switch {
		case actor.OnBehalfOf() != 0:
			// A package cannot be cut to one reseller's customers (it
			// takes no UIN), so a reseller's login asks customer by
			// customer.
			errs = append(errs, apperr.InvalidField("type", msgNoPack))
		case in.Scope == "" || in.Scope == "Customer":
		case in.Scope == "ResellerCustomer":
			f.UinType = in.Scope
		default:
			errs = append(errs, apperr.InvalidField("scope", msgBadScope))
		}
	case in.Customer == "":
		if slices.Contains(FileTypes, in.FileType) {
			errs = append(errs, apperr.InvalidField("customer", msgNeedUin))
		}
	default:
		row, err := s.customer(ctx, actor, in.Customer)
		if err != nil {
			errs = append(errs, err)
			break
		}
		f.Uin = row.Uin
		if row.ResellerUin != 0 {
			f.UinType = "ResellerCustomer"
		}
	}
	if err := errors.Join(errs...); err != nil {
		return File{}, err
	}
	return s.start(ctx, actor, f, "billfile.request")
}

// RequestCommission asks for the partner's commission file of a month.
func (s *Service) RequestCommission(ctx context.Context, actor audit.Actor, month string) (File, error) {
	if !mayView(actor, KindCommission) {
		return File{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	if err := s.checkMonth(month); err != nil {
		return File{}, err
	}
	f := File{Kind: KindCommission, Owner: actor.UserID, Month: month, FileType: "CommissionDetail", onBehalf: actor.OnBehalfOf()}
	return s.start(ctx, actor, f, "commission.file")
}

// RequestOwn asks, with the customer's own key, for its bill file of a
// month (DescribeBillDownloadUrl). Whoever may see the customer's bills
// may ask; a reseller's login for its own customers only.
func (s *Service) RequestOwn(ctx context.Context, actor audit.Actor, uin uint64, month, fileType string) (File, error) {
	if !mayView(actor, KindBill) {
		return File{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	row, err := s.customers.Row(ctx, actor, uin)
	if err != nil {
		return File{}, err
	}
	errs := []error{s.checkMonth(month)}
	if !slices.Contains(OwnFileTypes, fileType) {
		errs = append(errs, apperr.InvalidField("type", msgBadType))
	}
	if err := errors.Join(errs...); err != nil {
		return File{}, err
	}
	f := File{Kind: KindOwn, Owner: actor.UserID, Uin: row.Uin, Month: month, FileType: fileType, UinType: "own", onBehalf: actor.OnBehalfOf()}
	return s.start(ctx, actor, f, "billfile.request")
}

// customer parses a typed UIN and finds the customer, if the actor may
// see it: another reseller's customer is refused as unknown.
func (s *Service) customer(ctx context.Context, actor audit.Actor, text string) (store.Customer, error) {
	uin, err := strconv.ParseUint(text, 10, 64)
	if err != nil || uin == 0 || len(text) > 20 {
		return store.Customer{}, apperr.InvalidField("customer", msgBadUin)
	}
	row, err := s.customers.Row(ctx, actor, uin)
	switch {
	case err == nil:
		return row, nil
	case apperr.KindOf(err) == apperr.NotFound, errors.Is(err, store.ErrNotFound):
		return store.Customer{}, apperr.InvalidField("customer", msgNoUin).With(map[string]any{"Uin": uin}).Because(err)
	}
	return store.Customer{}, err
}

// start makes the first request, audits it and keeps it.
func (s *Service) start(ctx context.Context, actor audit.Actor, f File, action string) (File, error) {
	f.ID = newID()
	f.Requested = s.now()
	f.State = Generating
	askErr := s.ask(ctx, &f)
	params := map[string]string{"month": f.Month, "file_type": f.FileType}
	if f.Kind != KindCommission {
		params["language"], params["uin_type"] = f.Language, f.UinType
	}
	entry := actor.Entry(action, f.Uin, params)
	entry.RequestId = f.RequestID
	if askErr != nil {
		entry.Outcome, entry.Code, entry.RequestId = store.OutcomeFailed, partnerapi.ErrorCode(askErr), partnerapi.RequestID(askErr)
		if entry.Code == "" {
			entry.Code = "unreachable"
		}
	}
	if _, err := s.db.AppendAudit(ctx, entry); err != nil {
		return File{}, errors.Join(askErr, err)
	}
	if askErr != nil {
		if apperr.KindOf(askErr) == apperr.Unavailable {
			return File{}, askErr
		}
		return File{}, apperr.New(apperr.Invalid, "", msgRefused).Because(askErr)
	}
	s.keep(f)
	return f, nil
}

// ask calls the API for the file and records its answer in f.
func (s *Service) ask(ctx context.Context, f *File) error {
	f.Checked = s.now()
	var url string
	var ready int64
	switch f.Kind {
	case KindOwn:
		if s.own == nil {
			return errors.New("bill files: no customer keys")
		}
		c, err := s.own.ForCustomer(ctx, f.Uin)
		if err != nil {
			return err
		}
		r, err := c.DescribeBillDownloadUrl(ctx, &partnerapi.DescribeBillDownloadUrlRequest{Month: f.Month, FileType: f.FileType})
		if err != nil {
			return err
		}
		url, ready, f.RequestID = r.DownloadUrl, r.Ready, r.RequestId
	case KindCommission:
		// Only a first-level partner may call this and the customer bill
		// download (limits.tsv): the distributor's key asks, for a
		// reseller's login too, which the portal holds to its own
		// customers.
		c, err := s.clients.ActAs(ctx, 0)
		if err != nil {
			return err
		}
		r, err := c.DescribeRebateDownloadUrl(ctx, &partnerapi.DescribeRebateDownloadUrlRequest{Month: f.Month, FileType: f.FileType})
		if err != nil {
			return err
		}
		url, ready, f.RequestID = r.DownloadUrl, r.Ready, r.RequestId
	default:
		c, err := s.clients.ActAs(ctx, 0)
		if err != nil {
			return err
		}
		r, err := c.DescribeCustomerBillDownloadUrl(ctx, &partnerapi.DescribeCustomerBillDownloadUrlRequest{
			Month: f.Month, FileType: f.FileType, CustomerUinType: f.UinType, FileLanguage: f.Language, CustomerUin: int64(f.Uin)})
		if err != nil {
			return err
		}
		url, ready, f.RequestID = r.DownloadUrl, r.Ready, r.RequestId
	}
	if ready == 1 && url != "" {
		f.State, f.URL, f.Expires = Ready, url, f.Checked.Add(LinkLife)
	}
	return nil
}

// Check returns the actor's request and where it stands, asking the API
// again while the file is being generated. A link past its life is
// dropped and the request shown as expired. A failed check is kept on the
// request (Err), which stays for the next check.
func (s *Service) Check(ctx context.Context, actor audit.Actor, id string, kind string) (File, error) {
	if !mayView(actor, kind) {
		return File{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	f, ok := s.get(actor, id, kind)
	if !ok {
		return File{}, apperr.New(apperr.NotFound, "", msgNotFound)
	}
	if f.State != Generating || s.now().Sub(f.Checked) < CheckEvery {
		return f, nil
	}
	f.Err = s.ask(ctx, &f)
	s.update(f)
	return f, nil
}

// get returns a copy of the actor's request, applying the expiry rules.
func (s *Service) get(actor audit.Actor, id, kind string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	f, ok := s.files[id]
	// A customer's own bill file is a bill file too.
	sameKind := f != nil && (f.Kind == kind || (kind == KindBill && f.Kind == KindOwn))
	if !ok || !sameKind || f.Owner != actor.UserID || f.onBehalf != actor.OnBehalfOf() {
		return File{}, false
	}
	return *f, true
}

// sweep applies the expiry rules: links past their life are dropped (the
// request stays a while, expired), requests past RequestLife go.
func (s *Service) sweep() {
	now := s.now()
	for id, f := range s.files {
		switch {
		case f.State == Ready && !now.Before(f.Expires):
			f.State, f.URL = Expired, ""
		case f.State != Ready && now.Sub(f.Requested) > RequestLife+LinkLife:
			delete(s.files, id)
		}
	}
}

// keep stores a new request, dropping the owner's oldest past MaxPerUser.
func (s *Service) keep(f File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	var mine []*File
	for _, g := range s.files {
		if g.Owner == f.Owner {
			mine = append(mine, g)
		}
	}
	if len(mine) >= MaxPerUser {
		slices.SortFunc(mine, func(a, b *File) int { return a.Requested.Compare(b.Requested) })
		for _, g := range mine[:len(mine)-MaxPerUser+1] {
			delete(s.files, g.ID)
		}
	}
	s.files[f.ID] = &f
}

// update stores what a check learnt, unless the request went meanwhile.
func (s *Service) update(f File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.files[f.ID]; ok && g.State == Generating {
		*g = f
	}
}

// mayView reports whether the actor may ask for files of the kind.
func mayView(actor audit.Actor, kind string) bool {
	if kind == KindCommission {
		return actor.Can(auth.ViewCommission)
	}
	return actor.Can(auth.ViewBills)
}

// Mine lists the actor's requests of a kind, newest first.
func (s *Service) Mine(actor audit.Actor, kind string) []File {
	if !mayView(actor, kind) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	var out []File
	for _, f := range s.files {
		if f.Owner == actor.UserID && (f.Kind == kind || (kind == KindBill && f.Kind == KindOwn)) && f.onBehalf == actor.OnBehalfOf() {
			out = append(out, *f)
		}
	}
	slices.SortFunc(out, func(a, b File) int { return b.Requested.Compare(a.Requested) })
	return out
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
