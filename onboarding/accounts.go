package onboarding

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// The account rules the partner API documents.
const (
	// CodeInterval is how long the API waits between two SMS codes to a
	// number (FailedOperation.SendVerifyCodeLimit60).
	CodeInterval     = 60 * time.Second
	minPassword      = 8
	maxPassword      = 20
	PasswordSymbols  = "!@#$%^&*()"
	minCustomerName  = 2
	maxCustomerName  = 200
	maxPhoneDigits   = 32
	maxTypedPhone    = 64 // what may be typed, spaces and dashes included
	maxReferenceID   = 64 // an industry id or a region code as typed
	AccountPersonal  = "personal"
	AccountCompany   = "company"
	verifyCodeDigits = 6
)

// refusedCountryCodes may not register accounts (documented: 7, 380, 86).
var refusedCountryCodes = map[string]bool{"7": true, "380": true, "86": true}

// Messages of the account rules.
var (
	errTypeRequired     = apperr.InvalidField("account_type", "onboarding.account_type_required")
	errTypeInvalid      = apperr.InvalidField("account_type", "onboarding.account_type_invalid")
	errNameInvalid      = apperr.InvalidField("customer_name", "onboarding.customer_name_invalid")
	errCountryRequired  = apperr.InvalidField("country", "onboarding.country_required")
	errCountryInvalid   = apperr.InvalidField("country", "onboarding.country_invalid")
	errCountryRefused   = apperr.InvalidField("country", "apierror.InvalidParameterValue.UnSupportArea")
	errTradeOneRequired = apperr.InvalidField("trade_one", "onboarding.trade_one_required")
	errTradeOneInvalid  = apperr.InvalidField("trade_one", "onboarding.trade_one_invalid")
	errTradeTwoRequired = apperr.InvalidField("trade_two", "onboarding.trade_two_required")
	errTradeTwoInvalid  = apperr.InvalidField("trade_two", "apierror.FailedOperation.TradeInfoIncorrect")
	errPhoneRequired    = apperr.InvalidField("phone", "onboarding.phone_required")
	errPhoneInvalid     = apperr.InvalidField("phone", "onboarding.phone_invalid")
	errPasswordRequired = apperr.InvalidField("password", "onboarding.password_required")
	errPasswordLength   = apperr.InvalidField("password", "onboarding.password_length")
	errPasswordChars    = apperr.InvalidField("password", "onboarding.password_chars")
	errPasswordClasses  = apperr.InvalidField("password", "onboarding.password_classes")
	errConfirmRequired  = apperr.InvalidField("confirm_password", "onboarding.confirm_required")
	errConfirmMismatch  = apperr.InvalidField("confirm_password", "onboarding.confirm_mismatch")
	errCodeRequired     = apperr.InvalidField("verify_code", "onboarding.verify_code_required")
	errCodeInvalid      = apperr.InvalidField("verify_code", "onboarding.verify_code_invalid")
	errCodeWait         = apperr.InvalidField("phone", "onboarding.code_wait")
	errCodeUnknown      = apperr.InvalidField("phone", "onboarding.code_unknown")
	errCodeUnreachable  = apperr.New(apperr.Invalid, "", "onboarding.code_unreachable")
	errSecretsGone      = apperr.InvalidField("password", "onboarding.secrets_gone")
	errNoReference      = apperr.New(apperr.Invalid, "", "onboarding.reference_unavailable")
)

// Country is a country or region accounts can be registered in.
type Country struct {
	ISO2   string // the Area of CreateAccount
	Code   string // the dialing code, CountryCode
	Name   string // in English
	NameZh string // in Chinese
}

// Industry is a first-level industry and its second-level ones.
type Industry struct {
	ID       string
	Name     string
	Children []SubIndustry
}

// SubIndustry is a second-level industry.
type SubIndustry struct {
	ID   string
	Name string
}

// Reference is the lists the account form chooses from.
type Reference struct {
	Countries  []Country // those accounts can be created in
	Refused    []Country // those the API refuses (7, 380, 86)
	Industries []Industry
	AsOf       time.Time
	Pending    bool
	Problem    error
}

// Country finds a country by its ISO2 code.
func (r Reference) Country(iso2 string) (Country, bool) {
	for _, c := range r.Countries {
		if c.ISO2 == iso2 {
			return c, true
		}
	}
	return Country{}, false
}

// Industry finds a first-level industry.
func (r Reference) Industry(id string) (Industry, bool) {
	for _, in := range r.Industries {
		if in.ID == id {
			return in, true
		}
	}
	return Industry{}, false
}

// Ready reports whether the lists are there to choose from.
func (r Reference) Ready() bool { return len(r.Countries) > 0 && len(r.Industries) > 0 }

// Reference reads the country codes and industries (GetCountryCodes,
// GetTradeConfigList) through the cache, in the API language lang; they
// change rarely and are kept for a day.
func (s *Service) Reference(ctx context.Context, actor audit.Actor, lang string) (Reference, error) {
	if err := mayOnboard(actor); err != nil {
		return Reference{}, err
	}
	c, _, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		return Reference{Problem: err}, nil
	}
	return s.reference(ctx, c, lang), nil
}

func (s *Service) reference(ctx context.Context, c *partnerapi.Client, lang string) Reference {
	ctx = partnerapi.WithLanguage(ctx, lang)
	params := map[string]string{"Language": lang}
	countries := apicache.Read(ctx, s.cache, c.SecretID(), apicache.Reference, apicache.Fresh, partnerapi.ActionGetCountryCodes, params,
		func(ctx context.Context) ([]partnerapi.CountryCodeItem, error) {
			r, err := c.GetCountryCodes(ctx, nil)
			if err != nil {
				return nil, err
			}
			return r.Data, nil
		})
	trades := apicache.Read(ctx, s.cache, c.SecretID(), apicache.Reference, apicache.Fresh, partnerapi.ActionGetTradeConfigList, params,
		func(ctx context.Context) ([]partnerapi.TradeOneNode, error) {
			r, err := c.GetTradeConfigList(ctx, nil)
			if err != nil {
				return nil, err
			}
			return r.TradeList, nil
		})
	ref := Reference{Pending: countries.Pending || trades.Pending, Problem: errors.Join(countries.Err, trades.Err)}
	for _, t := range []time.Time{countries.FetchedAt, trades.FetchedAt} {
		if !t.IsZero() && (ref.AsOf.IsZero() || t.Before(ref.AsOf)) {
			ref.AsOf = t
		}
	}
	if countries.Value == nil || trades.Value == nil {
		return ref
	}
	for _, it := range *countries.Value {
		cc := Country{ISO2: strings.TrimSpace(it.IOS2), Code: strings.TrimSpace(it.Code), Name: it.EnName, NameZh: it.Name}
		if cc.ISO2 == "" || cc.Code == "" {
			continue
		}
		if refusedCountryCodes[cc.Code] {
			ref.Refused = append(ref.Refused, cc)
			continue
		}
		ref.Countries = append(ref.Countries, cc)
	}
	for _, t := range *trades.Value {
		in := Industry{ID: t.Id, Name: t.Name}
		for _, ch := range t.Children {
			in.Children = append(in.Children, SubIndustry{ID: ch.Id, Name: ch.Name})
		}
		ref.Industries = append(ref.Industries, in)
	}
	return ref
}

// checkCountry finds the typed region in the list.
func checkCountry(ref Reference, iso2 string) (Country, error) {
	iso2 = strings.TrimSpace(iso2)
	switch {
	case iso2 == "":
		return Country{}, errCountryRequired
	case len(iso2) > maxReferenceID:
		return Country{}, errCountryInvalid
	}
	if c, ok := ref.Country(iso2); ok {
		return c, nil
	}
	for _, c := range ref.Refused {
		if c.ISO2 == iso2 {
			return Country{}, errCountryRefused
		}
	}
	return Country{}, errCountryInvalid
}

// phoneDigits is a typed mobile number without the spaces and dashes
// people type for reading.
func phoneDigits(raw string) (string, error) {
	if len(raw) > maxTypedPhone {
		return "", errPhoneInvalid
	}
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	switch {
	case digits == "":
		return "", errPhoneRequired
	case len(digits) > maxPhoneDigits:
		return "", errPhoneInvalid
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", errPhoneInvalid
		}
	}
	return digits, nil
}

// CheckPassword applies the partner API's documented password rule: 8 to
// 20 characters, with digits, letters and symbols from !@#$%^&*(), and no
// spaces.
func CheckPassword(pw string) error {
	if pw == "" {
		return errPasswordRequired
	}
	if n := utf8.RuneCountInString(pw); n < minPassword || n > maxPassword {
		return errPasswordLength
	}
	var digit, letter, symbol bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			letter = true
		case strings.ContainsRune(PasswordSymbols, r):
			symbol = true
		default:
			return errPasswordChars
		}
	}
	if !digit || !letter || !symbol {
		return errPasswordClasses
	}
	return nil
}

var verifyCodePattern = regexp.MustCompile(`^[0-9]{` + strconv.Itoa(verifyCodeDigits) + `}$`)

// checkCustomerName: optional; else 2 to 200 characters, not only digits,
// no control characters.
func checkCustomerName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	if name == "" {
		return "", nil
	}
	if !utf8.ValidString(name) {
		return "", errNameInvalid
	}
	n, digits := 0, 0
	for _, r := range name {
		n++
		if unicode.IsControl(r) {
			return "", errNameInvalid
		}
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if n < minCustomerName || n > maxCustomerName || digits == n {
		return "", errNameInvalid
	}
	return name, nil
}

// CodeInput asks for an SMS code.
type CodeInput struct {
	Country string // ISO2, as the account form chooses it
	Phone   string
	Lang    string // the page's API language, whose reference lists the form shows
}

// CodeSent says where a code went and when the next may go.
type CodeSent struct {
	To     string // "+852 61234567"
	SentAt time.Time
	NextAt time.Time
	// Unknown: the request went and no answer came, so a code may have
	// been sent.
	Unknown bool
}

// Wait is how long until the next code may be sent, at now.
func (c CodeSent) Wait(now time.Time) time.Duration { return max(0, c.NextAt.Sub(now)) }

// phoneKey names a number as the outbox does: "+852 61234567".
func phoneKey(countryCode, phone string) string { return "+" + countryCode + " " + phone }

// SendCode sends an SMS verification code to the number a new account is
// for (SendVerifyCode). It is a mutation the API takes once: it is never
// retried, it is audited whatever happens, and a second code to a number
// within 60 seconds is refused here, before any call, saying when the next
// may go. When no answer comes, the error says a code may have been sent.
func (s *Service) SendCode(ctx context.Context, actor audit.Actor, in CodeInput) (CodeSent, error) {
	if err := mayOnboard(actor); err != nil {
		return CodeSent{}, err
	}
	phone, errPhone := phoneDigits(in.Phone)
	if strings.TrimSpace(in.Country) == "" {
		return CodeSent{}, errors.Join(errCountryRequired, errPhone)
	}
	c, partner, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		return CodeSent{}, errors.Join(errPhone, err)
	}
	ref := s.reference(ctx, c, in.Lang)
	if !ref.Ready() {
		return CodeSent{}, errors.Join(errPhone, errNoReference.Because(ref.Problem))
	}
	country, errCountry := checkCountry(ref, in.Country)
	if err := errors.Join(errCountry, errPhone); err != nil {
		return CodeSent{}, err
	}
	key := phoneKey(country.Code, phone)
	now := s.now()
	if last, ok := s.codes.last(key); ok && now.Before(last.NextAt) {
		return CodeSent{}, errCodeWait.With(map[string]any{"Time": last.NextAt})
	}
	resp, callErr := c.SendVerifyCode(ctx, &partnerapi.SendVerifyCodeRequest{CountryCode: country.Code, PhoneNum: phone})
	entry := actor.Entry(partnerapi.ActionSendVerifyCode, 0, map[string]string{"CountryCode": country.Code, "PhoneNum": phone})
	switch {
	case callErr == nil:
		entry.RequestId = resp.RequestId
	case errors.Is(callErr, partnerapi.ErrOutcomeUnknown):
		entry.Outcome = store.OutcomeUnknown
	default:
		entry.Outcome, entry.Code, entry.RequestId = store.OutcomeFailed, partnerapi.ErrorCode(callErr), partnerapi.RequestID(callErr)
		if entry.Code == "" {
			entry.Code = jobs.CodeTransport
		}
	}
	// The call has happened: its row is written whatever became of the request.
	if err := s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendAudit(ctx, entry)
		return err
	}); err != nil {
		return CodeSent{}, fmt.Errorf("audit SendVerifyCode: %w", err)
	}
	sent := CodeSent{To: key, SentAt: now, NextAt: now.Add(CodeInterval)}
	switch {
	case callErr == nil:
		s.codes.record(key, partner, sent)
		return sent, nil
	case errors.Is(callErr, partnerapi.ErrOutcomeUnknown):
		// A code may have gone: the next waits as if it had.
		sent.Unknown = true
		s.codes.record(key, partner, sent)
		return sent, errCodeUnknown.With(map[string]any{"Time": sent.NextAt}).Because(callErr)
	case entry.Code == jobs.CodeTransport:
		// The request never left.
		return CodeSent{}, errCodeUnreachable.Because(callErr)
	}
	return CodeSent{}, apperr.InvalidField(codeField(entry.Code), "onboarding.code_refused").Because(callErr)
}

// codeField is the field a refusal of SendVerifyCode concerns.
func codeField(code string) string {
	switch code {
	case "InvalidParameterValue.CountryCodeEmpty", "InvalidParameter.CountryCodeFormatIncorrect",
		"InvalidParameter.CountryCodeContentIncorrect", "InvalidParameterValue.UnSupportArea":
		return "country"
	case "InvalidParameterValue.PhoneNumEmpty", "InvalidParameter.PhoneNumFormatIncorrect",
		"FailedOperation.SendVerifyCodeLimit", "FailedOperation.SendVerifyCodeLimit60", "FailedOperation.PhoneBindUpper":
		return "phone"
	}
	return ""
}

// LastCode returns the last code the portal sent to a number while the
// next must still wait, for a form shown again.
func (s *Service) LastCode(actor audit.Actor, in CodeInput, ref Reference) (CodeSent, bool) {
	if mayOnboard(actor) != nil {
		return CodeSent{}, false
	}
	country, ok := ref.Country(strings.TrimSpace(in.Country))
	phone, err := phoneDigits(in.Phone)
	if !ok || err != nil {
		return CodeSent{}, false
	}
	key := phoneKey(country.Code, phone)
	last, ok := s.codes.last(key)
	if !ok || !s.now().Before(last.NextAt) || !s.codes.sentFor(key, actor.OnBehalfOf()) {
		return CodeSent{}, false
	}
	return last, true
}

// AccountInput is the new account form.
type AccountInput struct {
	AccountType     string // personal or company
	Email           string
	CustomerName    string // optional
	Country         string // ISO2
	TradeOne        string
	TradeTwo        string
	Phone           string
	Password        string
	ConfirmPassword string
	VerifyCode      string
	Lang            string // the page's API language, whose reference lists the form shows
}

// AccountResult is what became of a new account.
type AccountResult struct {
	Status string // StatusOK, StatusUnknown, StatusPending or StatusFailed
	JobID  int64
	Email  string
	Uin    uint64 // when created
}

// checkAccount applies the rules that need no list to the form, reporting
// each bad field.
func checkAccount(in AccountInput) (jobs.WriteIntent, error) {
	var errs []error
	w := jobs.WriteIntent{Action: partnerapi.ActionCreateAccount}
	switch in.AccountType {
	case AccountPersonal, AccountCompany:
		w.AccountType = in.AccountType
	case "":
		errs = append(errs, errTypeRequired)
	default:
		errs = append(errs, errTypeInvalid)
	}
	var err error
	if w.Email, err = checkEmail(in.Email); err != nil {
		errs = append(errs, err)
	}
	if w.CustomerName, err = checkCustomerName(in.CustomerName); err != nil {
		errs = append(errs, err)
	}
	if w.PhoneNum, err = phoneDigits(in.Phone); err != nil {
		errs = append(errs, err)
	}
	if err := CheckPassword(in.Password); err != nil {
		errs = append(errs, err)
	}
	switch {
	case in.ConfirmPassword == "":
		errs = append(errs, errConfirmRequired)
	case in.ConfirmPassword != in.Password:
		errs = append(errs, errConfirmMismatch)
	}
	switch code := strings.TrimSpace(in.VerifyCode); {
	case code == "":
		errs = append(errs, errCodeRequired)
	case !verifyCodePattern.MatchString(code):
		errs = append(errs, errCodeInvalid)
	}
	return w, errors.Join(errs...)
}

// checkChoices checks the region and the industries against the lists,
// filling them into the intent.
func checkChoices(ref Reference, in AccountInput, w *jobs.WriteIntent) error {
	var errs []error
	if country, err := checkCountry(ref, in.Country); err != nil {
		errs = append(errs, err)
	} else {
		w.CountryCode, w.Area = country.Code, country.ISO2
	}
	one, two := strings.TrimSpace(in.TradeOne), strings.TrimSpace(in.TradeTwo)
	industry, found := ref.Industry(one)
	switch {
	case one == "":
		errs = append(errs, errTradeOneRequired)
	case !found:
		errs = append(errs, errTradeOneInvalid)
	case two == "":
		errs = append(errs, errTradeTwoRequired)
	default:
		ok := false
		for _, ch := range industry.Children {
			ok = ok || ch.ID == two
		}
		if !ok {
			errs = append(errs, errTradeTwoInvalid)
		}
	}
	w.TradeOne, w.TradeTwo = one, two
	return errors.Join(errs...)
}

// CreateAccount creates a customer account (CreateAccount) as the actor's
// partner. Every rule is checked before anything is sent; the password and
// SMS code travel to the write in memory only (SecretBox), never into the
// database, the audit log or the job. Once created, the customer is read
// into the customers table at once.
func (s *Service) CreateAccount(ctx context.Context, actor audit.Actor, in AccountInput) (AccountResult, error) {
	if err := mayOnboard(actor); err != nil {
		return AccountResult{}, err
	}
	// What needs no list is checked first, so bad input is told whatever
	// else is wrong.
	w, errFields := checkAccount(in)
	c, partner, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		return AccountResult{}, errors.Join(errFields, err)
	}
	ref := s.reference(ctx, c, in.Lang)
	if !ref.Ready() {
		return AccountResult{}, errors.Join(errFields, errNoReference.Because(ref.Problem))
	}
	if err := errors.Join(errFields, checkChoices(ref, in, &w)); err != nil {
		return AccountResult{}, err
	}
	w.SecretRef = s.secrets.Put(jobs.AccountSecrets{Password: in.Password, VerifyCode: strings.TrimSpace(in.VerifyCode)})
	jobID, it, err := s.submitOne(ctx, actor, "New account "+w.Email, partner, w)
	if err != nil {
		if jobID == 0 {
			s.secrets.Drop(w.SecretRef)
		}
		return AccountResult{}, fmt.Errorf("create account %s: %w", w.Email, err)
	}
	res := s.accountResult(ctx, jobID, w.Email, it)
	if res.Status == StatusFailed {
		return res, accountRefusal(it)
	}
	return res, nil
}

// accountResult reads a CreateAccount item's outcome; a new customer is
// put into the customers table, read with the distributor's key, which
// sees every customer with the reseller it belongs to.
func (s *Service) accountResult(ctx context.Context, jobID int64, email string, it store.JobItem) AccountResult {
	res := AccountResult{Status: itemStatus(it), JobID: jobID, Email: email}
	if res.Status != StatusOK {
		return res
	}
	uin, err := strconv.ParseUint(summary(it)["Uin"], 10, 64)
	if err != nil || uin == 0 {
		// Applied by reading back: the answer (and its UIN) never came.
		return res
	}
	res.Uin = uin
	if c, err := s.clients.ActAs(ctx, 0); err != nil {
		s.logger.Warn("new customer not read into the table", "uin", uin, "err", err)
	} else if _, err := s.refresh(ctx, c, s.db, uin); err != nil {
		s.logger.Warn("new customer not read into the table", "uin", uin, "err", err)
	}
	return res
}

// accountRefusal places the API's refusal of a new account beside the
// field it concerns.
func accountRefusal(it store.JobItem) error {
	if it.Code == jobs.CodeSecretsGone {
		return errSecretsGone
	}
	field := ""
	switch it.Code {
	case "InvalidParameterValue.AccountTypeEmpty", "InvalidParameter.AccountTypeContentIncorrect":
		field = "account_type"
	case "InvalidParameterValue.MailEmpty", "InvalidParameter.MailFormatIncorrect", "FailedOperation.MailIsRegistered":
		field = "email"
	case "InvalidParameterValue.PasswordEmpty", "InvalidParameter.PasswordFormatIncorrect", "InvalidParameter.PasswordContentIncorrect":
		field = "password"
	case "InvalidParameter.ConfirmPasswordContentIncorrect":
		field = "confirm_password"
	case "InvalidParameterValue.PhoneNumEmpty", "InvalidParameter.PhoneNumFormatIncorrect", "FailedOperation.PhoneBindUpper":
		field = "phone"
	case "InvalidParameterValue.CountryCodeEmpty", "InvalidParameter.CountryCodeFormatIncorrect",
		"InvalidParameter.CountryCodeContentIncorrect", "InvalidParameterValue.UnSupportArea",
		"InvalidParameterValue.AreaEmpty", "InvalidParameter.AreaFormatIncorrect", "InvalidParameter.AreaContentIncorrect":
		field = "country"
	case "InvalidParameterValue.TradeInfoEmpty":
		field = "trade_one"
	case "FailedOperation.TradeInfoIncorrect":
		field = "trade_two"
	case "FailedOperation.VerificationCodeIllegal":
		field = "verify_code"
	}
	return refusal(partnerapi.ActionCreateAccount, it, field, "onboarding.account_refused")
}

// AccountCreated returns the outcome of a new account's job, for the page
// the person is sent to after the form.
func (s *Service) AccountCreated(ctx context.Context, actor audit.Actor, jobID int64) (AccountResult, error) {
	if err := mayOnboard(actor); err != nil {
		return AccountResult{}, err
	}
	out, err := s.writes.Writes(ctx, actor, jobID)
	if err != nil {
		return AccountResult{}, err
	}
	if p, err := jobs.ParamsOf(out.Job); err != nil || p.AsReseller != actor.OnBehalfOf() || len(out.Items) != 1 {
		return AccountResult{}, errNotFound.Because(fmt.Errorf("job %d is not the actor's partner's new account", jobID))
	}
	w, err := jobs.IntentOf(out.Items[0])
	if err != nil || w.Action != partnerapi.ActionCreateAccount {
		return AccountResult{}, errNotFound.Because(fmt.Errorf("job %d is not a new account", jobID))
	}
	it := out.Items[0]
	res := AccountResult{Status: itemStatus(it), JobID: jobID, Email: w.Email}
	if res.Status == StatusOK {
		res.Uin, _ = strconv.ParseUint(summary(it)["Uin"], 10, 64)
	}
	if res.Status == StatusFailed {
		return res, accountRefusal(it)
	}
	return res, nil
}

// codeBook remembers the SMS codes the portal sent, in memory: when the
// next to a number may go, and which partners asked (a reseller's login
// sees only its own in the sandbox outbox).
type codeBook struct {
	mu   sync.Mutex
	sent map[string]codeRecord
}

type codeRecord struct {
	CodeSent
	partners map[uint64]bool
}

// maxCodeRecords bounds the book; older records go first.
const maxCodeRecords = 10000

func newCodeBook() *codeBook { return &codeBook{sent: map[string]codeRecord{}} }

func (b *codeBook) record(key string, partner uint64, sent CodeSent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sent) >= maxCodeRecords {
		for k, r := range b.sent {
			if r.NextAt.Before(sent.SentAt.Add(-24 * time.Hour)) {
				delete(b.sent, k)
			}
		}
		if len(b.sent) >= maxCodeRecords {
			clear(b.sent)
		}
	}
	r, ok := b.sent[key]
	if !ok {
		r.partners = map[uint64]bool{}
	}
	r.CodeSent = sent
	r.partners[partner] = true
	b.sent[key] = r
}

// last is the last code sent to a number.
func (b *codeBook) last(key string) (CodeSent, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.sent[key]
	return r.CodeSent, ok
}

// sentFor reports whether the partner asked for a code to the number.
func (b *codeBook) sentFor(key string, partner uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.sent[key]
	return ok && r.partners[partner]
}
