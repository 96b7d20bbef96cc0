package sandbox

import (
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Onboarding: applications, verification codes, account creation and
// invitations.

const (
	smsInterval  = 60 * time.Second
	mailInterval = 180 * time.Second
	maxPerPhone  = 5
	// codeLifetime is how long a verification code stays usable; the
	// documentation gives no lifetime, so this is the sandbox's choice.
	codeLifetime = 10 * time.Minute
	// smsPerDay is how many codes one number receives in a day (in the API's
	// time zone) before FailedOperation.SendVerifyCodeLimit; the sandbox's
	// choice, the documentation gives no number.
	smsPerDay = 10
)

func queryPendingClientsV2(w *World, c Caller, req *partnerapi.QueryPendingClientsV2Request) (*partnerapi.QueryPendingClientsV2Response, error) {
	if _, err := w.partnerOf(c); err != nil {
		return nil, err
	}
	mine := make([]*applicant, 0, 8)
	for _, a := range w.pendingClients {
		if a.partner == c.Uin {
			mine = append(mine, a)
		}
	}
	lo, hi := pageRange(len(mine), req.Page, req.PageSize, 20)
	out := make([]partnerapi.QueryPendingCustomersItem, 0, hi-lo)
	for _, a := range mine[lo:hi] {
		typ := "personal"
		if a.company {
			typ = "company"
		}
		out = append(out, partnerapi.QueryPendingCustomersItem{
			ApplyTime: apiTime(a.applyTime), ClientUin: a.uin, Email: a.email, Mobile: maskMobile(a.mobile),
			Name: a.name, Status: "Reviewing", Type: typ,
		})
	}
	return &partnerapi.QueryPendingClientsV2Response{Data: out, Total: int64(len(mine))}, nil
}

func queryPendingSubAgentsV2(w *World, c Caller, req *partnerapi.QueryPendingSubAgentsV2Request) (*partnerapi.QueryPendingSubAgentsV2Response, error) {
	if _, err := w.partnerOf(c); err != nil || c.Uin != w.distributor.uin {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "Only the distributor can list second-level reseller applications.")
	}
	lo, hi := pageRange(len(w.pendingSubAgents), req.Page, req.PageSize, 20)
	out := make([]partnerapi.QueryPendingSubAgentsV2ResponseData, 0, hi-lo)
	for _, a := range w.pendingSubAgents[lo:hi] {
		out = append(out, partnerapi.QueryPendingSubAgentsV2ResponseData{
			SubAgentUin: int64(a.uin), Name: a.name, Mobile: maskMobile(a.mobile), Email: a.email,
			ApplyTime: apiTime(a.applyTime), Status: "Reviewing", MaterialUrl: a.material, AuthState: a.authState,
		})
	}
	return &partnerapi.QueryPendingSubAgentsV2Response{Data: out, Total: int64(len(w.pendingSubAgents))}, nil
}

// checkApproval validates ApproveType and RejectReason.
func checkApproval(approveType, reason string) error {
	switch approveType {
	case "pass":
	case "reject":
		if strings.TrimSpace(reason) == "" {
			return errorf("MissingParameter", "RejectReason is required when ApproveType is reject.")
		}
	default:
		return errorf("InvalidParameterValue", "ApproveType must be pass or reject, got %q.", approveType)
	}
	return nil
}

func approveClientApply(w *World, c Caller, req *partnerapi.ApproveClientApplyRequest) (*partnerapi.ApproveClientApplyResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	if err := checkApproval(req.ApproveType, req.RejectReason); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(w.pendingClients, func(a *applicant) bool { return a.partner == c.Uin && int64(a.uin) == req.ClientUin })
	if i < 0 {
		return nil, errorf("FailedOperation.ClientNotApply", "The UIN %d has no pending application to become your customer.", req.ClientUin)
	}
	a := w.pendingClients[i]
	if req.ApproveType == "pass" && a.refusal != "" {
		// The account cannot be bound; the application stays for the
		// partner to reject.
		return nil, errorf(a.refusal, "The UIN %d cannot become your customer: %s.", a.uin, errorMeaning(a.refusal))
	}
	w.pendingClients = slices.Delete(w.pendingClients, i, i+1)
	if req.ApproveType == "pass" {
		now := w.clock().Truncate(time.Second)
		r := newRand(w.seed, a.uin, streamProfile)
		cu := &customer{
			uin: a.uin, owner: p.uin, name: a.name, email: a.email, countryCode: a.country, mobile: a.mobile,
			company: a.company, identify: 1, bindTime: now, regTime: a.applyTime.Add(-time.Duration(r.IntN(400)) * day),
			spend: int32(300 + r.IntN(100000)),
		}
		if a.company {
			cu.identify = 2
		}
		w.customers[cu.uin] = cu
		w.emails[strings.ToLower(cu.email)] = true
		w.phoneUses[cu.countryCode+" "+cu.mobile]++
		p.bindCustomer(cu)
		w.markBound(a, now)
	}
	return &partnerapi.ApproveClientApplyResponse{}, nil
}

func approveSubAgentApply(w *World, c Caller, req *partnerapi.ApproveSubAgentApplyRequest) (*partnerapi.ApproveSubAgentApplyResponse, error) {
	if _, err := w.partnerOf(c); err != nil || c.Uin != w.distributor.uin {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "Only the distributor can review second-level reseller applications.")
	}
	if err := checkApproval(req.ApproveType, req.RejectReason); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(w.pendingSubAgents, func(a *applicant) bool { return int64(a.uin) == req.SubAgentUin })
	if i < 0 {
		return nil, errorf("FailedOperation.ResellerNotApply", "The UIN %d has no pending application to become your second-level reseller.", req.SubAgentUin)
	}
	a := w.pendingSubAgents[i]
	w.pendingSubAgents = slices.Delete(w.pendingSubAgents, i, i+1)
	if req.ApproveType == "pass" {
		sa := &partner{
			uin: a.uin, role: partnerapi.RoleSubAgent, name: a.name, email: a.email,
			mobile: a.mobile, bindTime: w.clock().Truncate(time.Second), credit: decimal.Zero,
			notAllowlisted: maps.Clone(w.notAllowlisted),
		}
		w.partners[sa.uin] = sa
		w.subAgents = append(w.subAgents, sa)
		w.markBound(a, sa.bindTime)
	}
	return &partnerapi.ApproveSubAgentApplyResponse{}, nil
}

var digitsOnly = regexp.MustCompile(`^[0-9]{1,32}$`)

// checkPhone validates a country code and phone number for SMS and accounts.
func checkPhone(countryCode, phone string) error {
	switch {
	case countryCode == "":
		return errorf("InvalidParameterValue.CountryCodeEmpty", "CountryCode is empty.")
	case !regexp.MustCompile(`^[0-9]{1,4}$`).MatchString(countryCode):
		return errorf("InvalidParameter.CountryCodeFormatIncorrect", "CountryCode %q must be a dialing code of 1 to 4 digits, such as 852.", countryCode)
	case refusedCountryCodes[countryCode]:
		return errorf("InvalidParameterValue.UnSupportArea", "Accounts cannot be created for country code %s.", countryCode)
	}
	if _, ok := countryByCode(countryCode); !ok {
		return errorf("InvalidParameter.CountryCodeContentIncorrect", "CountryCode %s is not in the GetCountryCodes list.", countryCode)
	}
	switch {
	case phone == "":
		return errorf("InvalidParameterValue.PhoneNumEmpty", "PhoneNum is empty.")
	case !digitsOnly.MatchString(phone):
		return errorf("InvalidParameter.PhoneNumFormatIncorrect", "PhoneNum must be 1 to 32 digits without the country code.")
	}
	return nil
}

// phoneKey is how the outbox and the limits name a phone: "+852 61234567".
func phoneKey(countryCode, phone string) string { return "+" + countryCode + " " + phone }

func sendVerifyCode(w *World, _ Caller, req *partnerapi.SendVerifyCodeRequest) (*partnerapi.SendVerifyCodeResponse, error) {
	cc, phone := strings.TrimSpace(req.CountryCode), strings.TrimSpace(req.PhoneNum)
	if err := checkPhone(cc, phone); err != nil {
		return nil, err
	}
	key := phoneKey(cc, phone)
	now := w.clock()
	if last, ok := w.smsSent[key]; ok && now.Sub(last.sent) < smsInterval {
		return nil, errorf("FailedOperation.SendVerifyCodeLimit60", "A verification code was sent to %s less than 60 seconds ago; try again later.", key)
	}
	today := now.In(apiZone).Format(apiDateLayout)
	daily := w.smsDaily[key]
	if daily.day != today {
		daily = smsDay{day: today}
	}
	if daily.count >= smsPerDay {
		return nil, errorf("FailedOperation.SendVerifyCodeLimit", "%s has received %d verification codes today (UTC+8), the most a number receives in a day; try again tomorrow.", key, smsPerDay)
	}
	daily.count++
	w.smsDaily[key] = daily
	code := fmt.Sprintf("%06d", w.rng.IntN(1000000))
	w.smsSent[key] = smsRec{code: code, sent: now}
	w.send(OutboxMessage{Kind: "sms", To: key, Time: now.UTC().Format(time.RFC3339), Code: code})
	return &partnerapi.SendVerifyCodeResponse{}, nil
}

var (
	areaPattern     = regexp.MustCompile(`^[A-Z]{2}$`)
	passwordSymbols = "!@#$%^&*()"
)

func createAccount(w *World, c Caller, req *partnerapi.CreateAccountRequest) (*partnerapi.CreateAccountResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	switch req.AccountType {
	case "":
		return nil, errorf("InvalidParameterValue.AccountTypeEmpty", "AccountType is empty.")
	case "personal", "company":
	default:
		return nil, errorf("InvalidParameter.AccountTypeContentIncorrect", "AccountType must be personal or company, got %q.", req.AccountType)
	}
	addr := strings.TrimSpace(req.Mail)
	if addr == "" {
		return nil, errorf("InvalidParameterValue.MailEmpty", "Mail is empty.")
	}
	if !validMail(addr) {
		return nil, errorf("InvalidParameter.MailFormatIncorrect", "Mail %q is not a valid email address.", addr)
	}
	if err := checkPassword(req.Password); err != nil {
		return nil, err
	}
	if req.ConfirmPassword != req.Password {
		return nil, errorf("InvalidParameter.ConfirmPasswordContentIncorrect", "ConfirmPassword does not match Password.")
	}
	cc, phone := strings.TrimSpace(req.CountryCode), strings.TrimSpace(req.PhoneNum)
	if err := checkPhone(cc, phone); err != nil {
		return nil, err
	}
	country, _ := countryByCode(cc)
	switch {
	case req.Area == "":
		return nil, errorf("InvalidParameterValue.AreaEmpty", "Area is empty.")
	case !areaPattern.MatchString(req.Area):
		return nil, errorf("InvalidParameter.AreaFormatIncorrect", "Area must be an ISO2 code such as HK, got %q.", req.Area)
	case req.Area != country.IOS2:
		return nil, errorf("InvalidParameter.AreaContentIncorrect", "Area %s does not match CountryCode %s (%s).", req.Area, cc, country.IOS2)
	}
	if req.TradeOne == "" || req.TradeTwo == "" {
		return nil, errorf("InvalidParameterValue.TradeInfoEmpty", "TradeOne and TradeTwo are both required.")
	}
	if !tradeMatches(req.TradeOne, req.TradeTwo) {
		return nil, errorf("FailedOperation.TradeInfoIncorrect", "TradeTwo %q is not a layer-2 industry of TradeOne %q.", req.TradeTwo, req.TradeOne)
	}
	if name := []rune(strings.TrimSpace(req.CustomerName)); len(name) > 0 {
		if len(name) < 2 || len(name) > 200 || digitsOnly.MatchString(string(name)) {
			return nil, errorf("InvalidParameterValue", "CustomerName must be 2 to 200 characters and not only digits.")
		}
	}
	key := phoneKey(cc, phone)
	sent, ok := w.smsSent[key]
	if !ok || sent.code == "" || sent.code != strings.TrimSpace(req.VerifyCode) {
		return nil, errorf("FailedOperation.VerificationCodeIllegal", "The verification code is not the latest one sent to %s.", key)
	}
	if w.clock().Sub(sent.sent) > codeLifetime {
		return nil, errorf("FailedOperation.VerificationCodeIllegal", "The verification code sent to %s at %s has expired: codes are valid for %d minutes.",
			key, apiTime(sent.sent), int(codeLifetime/time.Minute))
	}
	lowerMail := strings.ToLower(addr)
	if w.emails[lowerMail] || w.emails[addr] {
		return nil, errorf("FailedOperation.MailIsRegistered", "The mail address %s is already registered.", addr)
	}
	if w.phoneUses[cc+" "+phone] >= maxPerPhone {
		return nil, errorf("FailedOperation.PhoneBindUpper", "The mobile number %s already has %d accounts.", key, maxPerPhone)
	}
	// The code is used up.
	sent.code = ""
	w.smsSent[key] = sent
	now := w.clock().Truncate(time.Second)
	w.nextUin += 1 + w.rng.Uint64N(60)
	cu := &customer{
		uin: w.nextUin, owner: p.uin, email: addr, countryCode: cc, mobile: phone,
		company: req.AccountType == "company", bindTime: now, regTime: now,
	}
	cu.name = strings.TrimSpace(req.CustomerName)
	if cu.name == "" {
		cu.name = addr[:strings.IndexByte(addr, '@')]
	}
	w.customers[cu.uin] = cu
	w.emails[lowerMail] = true
	w.phoneUses[cc+" "+phone]++
	p.bindCustomer(cu)
	return &partnerapi.CreateAccountResponse{Uin: strconv.FormatUint(cu.uin, 10), Reason: "success"}, nil
}

func validMail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

// checkPassword applies the documented rule: 8-20 characters with digits,
// letters and symbols from !@#$%^&*(), no spaces.
func checkPassword(pw string) error {
	if pw == "" {
		return errorf("InvalidParameterValue.PasswordEmpty", "Password is empty.")
	}
	if n := len([]rune(pw)); n < 8 || n > 20 || strings.ContainsAny(pw, " \t\r\n") {
		return errorf("InvalidParameter.PasswordFormatIncorrect", "Password must be 8 to 20 characters without spaces.")
	}
	var digit, letter, symbol bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			letter = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		default:
			return errorf("InvalidParameter.PasswordContentIncorrect", "Password may contain only letters, digits and the symbols %s.", passwordSymbols)
		}
	}
	if !digit || !letter || !symbol {
		return errorf("InvalidParameter.PasswordContentIncorrect", "Password must contain digits, letters and at least one of %s.", passwordSymbols)
	}
	return nil
}

func tradeMatches(one, two string) bool {
	for _, t := range trades {
		if t.id == one {
			for _, ch := range t.children {
				if ch.code == two {
					return true
				}
			}
		}
	}
	return false
}

const invitationURL = "https://www.tencentcloud.com/reseller-customer/invitation?RegisterToken="

func createAndSendClientInvitationMail(w *World, c Caller, req *partnerapi.CreateAndSendClientInvitationMailRequest) (*partnerapi.CreateAndSendClientInvitationMailResponse, error) {
	if _, err := w.partnerOf(c); err != nil {
		return nil, err
	}
	addr := strings.TrimSpace(req.Email)
	if addr == "" {
		return nil, errorf("InvalidParameterValue.MailEmpty", "Email is empty.")
	}
	if !validMail(addr) {
		return nil, errorf("InvalidParameter.MailFormatIncorrect", "Email %q is not a valid email address.", addr)
	}
	role := int64(2)
	switch req.InvitationRole {
	case "", "Client":
	case "SubAgent":
		if c.Uin != w.distributor.uin {
			return nil, errorf("UnauthorizedOperation.UinNoAuth", "Only the distributor can invite second-level resellers.")
		}
		role = 1
	default:
		return nil, errorf("InvalidParameterValue", "InvitationRole must be Client or SubAgent, got %q.", req.InvitationRole)
	}
	now := w.clock()
	key := strings.ToLower(addr)
	switch w.mailScope {
	case MailLimitPerPartner:
		if last, ok := w.mailSentBy[c.Uin]; ok && now.Sub(last) < mailInterval {
			return nil, errorf("FailedOperation.SendMailLimit180", "You sent an invitation less than three minutes ago; try again later.")
		}
	default:
		if last, ok := w.mailSent[key]; ok && now.Sub(last) < mailInterval {
			return nil, errorf("FailedOperation.SendMailLimit180", "An invitation was sent to %s less than three minutes ago; try again later.", addr)
		}
	}
	token := randomString(w.rng, "0123456789abcdef", 32)
	inv := &invitation{token: token, partner: c.Uin, mail: addr, role: role, created: now.Truncate(time.Second)}
	if role == 1 {
		inv.material = strings.TrimSpace(req.MaterialUrl)
	}
	w.invitations[token] = inv
	w.mailSent[key] = now
	w.mailSentBy[c.Uin] = now
	link := invitationURL + token
	w.send(OutboxMessage{Kind: "mail", To: addr, Time: now.UTC().Format(time.RFC3339), Link: link, Token: token})
	return &partnerapi.CreateAndSendClientInvitationMailResponse{InvitationLink: link}, nil
}

func queryInvitationInfo(w *World, c Caller, req *partnerapi.QueryInvitationInfoRequest) (*partnerapi.QueryInvitationInfoResponse, error) {
	if _, err := w.partnerOf(c); err != nil {
		return nil, err
	}
	now := w.clock()
	out := make([]partnerapi.QueryInvitationInfoData, 0, len(req.InvitationToken))
	for _, tok := range req.InvitationToken {
		inv, ok := w.invitations[tok]
		// Unknown, foreign and deleted (older than 60 days) tokens are absent.
		if !ok || inv.partner != c.Uin || now.Sub(inv.created) > invitationRetention {
			continue
		}
		d := partnerapi.QueryInvitationInfoData{
			InvitationToken: inv.token, CreateTime: apiTime(inv.created), Status: 1,
			ClientMail: maskInvitationMail(inv.mail), ClientType: inv.role,
		}
		if !inv.used.IsZero() {
			d.Status, d.UseTime, d.ClientUin = 2, apiTime(inv.used), int64(inv.clientUin)
			d.BindTime = apiTime(inv.bound)
		}
		out = append(out, d)
	}
	return &partnerapi.QueryInvitationInfoResponse{InvitationInfo: out}, nil
}
