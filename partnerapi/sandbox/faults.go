package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Fault makes the next calls of an action (or of any action) misbehave the
// way the real service or the network sometimes does.
type Fault struct {
	Action  string        `json:"Action"`            // "" = any action
	Count   int           `json:"Count"`             // how many following calls it affects; 0 means 1
	Code    string        `json:"Code,omitempty"`    // answer with this error code instead of calling the World
	Message string        `json:"Message,omitempty"` // the error's message; the code's documented meaning when empty
	Latency time.Duration `json:"-"`                 // wait this long before answering; LatencyMs in JSON
	Drop    bool          `json:"Drop,omitempty"`    // apply the call, then close the connection without answering
}

// faultJSON is Fault's wire form, with the latency in milliseconds.
type faultJSON struct {
	Action    string  `json:"Action"`
	Count     int     `json:"Count"`
	Code      string  `json:"Code,omitempty"`
	Message   string  `json:"Message,omitempty"`
	LatencyMs float64 `json:"LatencyMs,omitempty"`
	Drop      bool    `json:"Drop,omitempty"`
}

// MarshalJSON encodes the fault with its latency as LatencyMs.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{
		Action: f.Action, Count: f.Count, Code: f.Code, Message: f.Message,
		LatencyMs: float64(f.Latency) / float64(time.Millisecond), Drop: f.Drop,
	})
}

// UnmarshalJSON decodes a fault whose latency is given as LatencyMs;
// unknown members are an error, so a misspelt fault is not silently a
// different one.
func (f *Fault) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j faultJSON
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault{
		Action: j.Action, Count: j.Count, Code: j.Code, Message: j.Message,
		Latency: time.Duration(j.LatencyMs * float64(time.Millisecond)), Drop: j.Drop,
	}
	return nil
}

// apiError is the answer of a Code fault.
func (f Fault) apiError() *apiError {
	msg := f.Message
	if msg == "" {
		msg = errorMeaning(f.Code)
	}
	if msg == "" {
		msg = "Injected fault."
	}
	return &apiError{Code: f.Code, Message: msg}
}

// faultSet holds the active faults, oldest first.
type faultSet struct {
	mu     sync.Mutex
	faults []Fault
}

func (s *faultSet) add(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

func (s *faultSet) clear() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *faultSet) list() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	copy(out, s.faults)
	return out
}

// take consumes one call of the oldest fault matching action.
func (s *faultSet) take(action string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.Action != "" && f.Action != action {
			continue
		}
		taken := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return taken, true
	}
	return Fault{}, false
}

// InjectFault makes the next Count calls of f.Action misbehave as f says.
// Faults apply after authentication, rate limiting and validation, in the
// order they were injected.
func (s *Server) InjectFault(f Fault) { s.faults.add(f) }

// ClearFaults removes every active fault.
func (s *Server) ClearFaults() { s.faults.clear() }

func (s *Server) serveListFaults(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, s.faults.list())
}

func (s *Server) serveAddFault(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	var f Fault
	if err := dec.Decode(&f); err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": "the body must be a JSON fault: " + err.Error()})
		return
	}
	if err := checkFault(f); err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": err.Error()})
		return
	}
	s.InjectFault(f)
	s.writeJSON(w, http.StatusCreated, s.faults.list())
}

func (s *Server) serveClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func checkFault(f Fault) error {
	switch {
	case f.Count < 0:
		return errors.New("count must not be negative")
	case f.Latency < 0:
		return errors.New("latency must not be negative")
	case f.Code == "" && f.Latency == 0 && !f.Drop:
		return errors.New("a fault needs a Code, a LatencyMs or Drop")
	case f.Code != "" && f.Drop:
		return fmt.Errorf("a fault either answers %s or drops the connection, not both", f.Code)
	}
	return nil
}

// errorMeaning returns the documented meaning of one of the service's
// error codes (errors.tsv), used as the message of an injected fault.
func errorMeaning(code string) string {
	switch code {
	case "AuthFailure":
		return "CAM signature/authentication error"
	case "AuthFailure.InvalidSecretId":
		return "the SecretId is not a valid key (wrong form or type)"
	case "AuthFailure.SecretIdNotFound":
		return "the SecretId does not exist or was disabled"
	case "AuthFailure.SignatureExpire":
		return "the signature has expired: X-TC-Timestamp differs from server time by more than 5 minutes"
	case "AuthFailure.SignatureFailure":
		return "the signature does not match (wrong SecretKey or wrong canonical request)"
	case "AuthFailure.UnauthorizedOperation":
		return "the request is not authorized (CAM)"
	case "InvalidAction":
		return "the action does not exist"
	case "NoSuchVersion":
		return "the API version does not exist"
	case "UnsupportedProtocol":
		return "HTTP(S) method or protocol not supported (only POST with JSON, and GET, are)"
	case "RequestSizeLimitExceeded":
		return "the request body is too large"
	case "FailedOperation":
		return "Operation failed"
	case "FailedOperation.AccountTypeNotCompany":
		return "The account type is not a corporate account"
	case "FailedOperation.BalanceInsufficient":
		return "The account balance is insufficient"
	case "FailedOperation.BindOrganizationAccount":
		return "The account is a group account and cannot be bound as a sub-customer"
	case "FailedOperation.ClientBalanceIsLessOrEqualZero":
		return "The sub-customer balance is less than zero"
	case "FailedOperation.ClientBuySP":
		return "The sub-customer has purchased an SP package"
	case "FailedOperation.ClientCreateShareUnit":
		return "The sub-customer has created a shared unit"
	case "FailedOperation.ClientJoinShareUnit":
		return "The sub-customer has joined a shared unit"
	case "FailedOperation.ClientNotApply":
		return "The user has not applied to become a sub-customer"
	case "FailedOperation.ExceedMaxBindCount":
		return "The maximum number of bindable sub-accounts has been exceeded"
	case "FailedOperation.InvalidSubAgentUin":
		return "The UIN of the second-level reseller is invalid"
	case "FailedOperation.MailIsRegistered":
		return "The mail address is already registered"
	case "FailedOperation.PhoneBindUpper":
		return "The mobile number has reached its maximum of registered accounts"
	case "FailedOperation.RealNameInApproval":
		return "Real-name verification pending approval"
	case "FailedOperation.RealNameNotCompleted":
		return "User has not completed enterprise identity verification"
	case "FailedOperation.RealNameReject":
		return "Identity audit was rejected"
	case "FailedOperation.RealNameTypeIllegal":
		return "Illegal real-name type"
	case "FailedOperation.ResellerNotApply":
		return "Unsubmitted application for second-level reseller"
	case "FailedOperation.SendMailLimit180":
		return "Invitation links sent less than three minutes apart; try again later"
	case "FailedOperation.SendVerifyCodeLimit":
		return "Verification codes are sent too frequently; try again later"
	case "FailedOperation.SendVerifyCodeLimit60":
		return "SMS verification codes must be sent more than 60 s apart; try again later"
	case "FailedOperation.TradeInfoIncorrect":
		return "The layer-1 and layer-2 industry ids do not match"
	case "FailedOperation.UinAlreadyKA":
		return "A Tencent Cloud KA account cannot become a sub-customer"
	case "FailedOperation.UinAppliedAgent":
		return "The UIN has already applied to become a reseller"
	case "FailedOperation.UinInvalid":
		return "Invalid UIN"
	case "FailedOperation.UinNotAgent":
		return "UIN is not a reseller"
	case "FailedOperation.UinNotReseller":
		return "UIN is not a reseller (master reseller, reseller, sub-reseller) account"
	case "FailedOperation.VerificationCodeIllegal":
		return "Incorrect verification code"
	case "InternalError":
		return "Internal error"
	case "InvalidParameter":
		return "Invalid parameter"
	case "InvalidParameter.AccountTypeContentIncorrect":
		return "AccountType has a wrong value"
	case "InvalidParameter.AreaContentIncorrect":
		return "Area has a wrong value"
	case "InvalidParameter.AreaFormatIncorrect":
		return "Area has a wrong format"
	case "InvalidParameter.ConfirmPasswordContentIncorrect":
		return "ConfirmPassword does not match Password"
	case "InvalidParameter.CountryCodeContentIncorrect":
		return "CountryCode has a wrong value"
	case "InvalidParameter.CountryCodeFormatIncorrect":
		return "CountryCode has a wrong format"
	case "InvalidParameter.MailFormatIncorrect":
		return "Mail has a wrong format"
	case "InvalidParameter.Page":
		return "Incorrect page parameter value"
	case "InvalidParameter.PasswordContentIncorrect":
		return "Password content does not meet the rules"
	case "InvalidParameter.PasswordFormatIncorrect":
		return "Password format does not meet the rules"
	case "InvalidParameter.PhoneNumFormatIncorrect":
		return "PhoneNum has a wrong format"
	case "InvalidParameterValue":
		return "Invalid parameter value"
	case "InvalidParameterValue.AccountTypeEmpty":
		return "AccountType is empty"
	case "InvalidParameterValue.AreaEmpty":
		return "Area is empty"
	case "InvalidParameterValue.CountryCodeEmpty":
		return "CountryCode is empty"
	case "InvalidParameterValue.CreditAmountOutOfRange":
		return "The credit quota exceeds the limit with the newly allocated quota"
	case "InvalidParameterValue.InvalidDimension":
		return "The dimension entered is incorrect"
	case "InvalidParameterValue.InvalidMonth":
		return "Incorrect month value"
	case "InvalidParameterValue.InvalidUin":
		return "Invalid UIN value"
	case "InvalidParameterValue.MailEmpty":
		return "Mail is empty"
	case "InvalidParameterValue.PasswordEmpty":
		return "Password is empty"
	case "InvalidParameterValue.PhoneNumEmpty":
		return "PhoneNum is empty"
	case "InvalidParameterValue.TradeInfoEmpty":
		return "The layer-1 or layer-2 industry id is empty"
	case "InvalidParameterValue.UinAlreadyAppliedClient":
		return "The user has already applied to become a sub-customer of another reseller"
	case "InvalidParameterValue.UinAlreadyClient":
		return "The user is already a sub-customer of another reseller"
	case "InvalidParameterValue.UinAlreadyReseller":
		return "The user is already a second-level reseller of another partner"
	case "InvalidParameterValue.UinIsSubAccount":
		return "The user is a sub-account"
	case "InvalidParameterValue.UinList":
		return "Invalid UinList: array length must be 1-50"
	case "InvalidParameterValue.UnSupportArea":
		return "The region does not support creating a Tencent Cloud International account"
	case "InvalidParameterValue.VoucherAmountOutOfRange":
		return "The allocated amount is out of range [0, 1000000]"
	case "MissingParameter":
		return "Missing parameter"
	case "OperationDenied":
		return "Operation denied"
	case "OperationDenied.ServiceBusy":
		return "System busy; try again later"
	case "RequestLimitExceeded":
		return "Too many requests (the per-action frequency limit was exceeded)"
	case "UnauthorizedOperation":
		return "Unauthorized operation"
	case "UnauthorizedOperation.NotCustomerUin":
		return "The UIN is not a customer of the caller"
	case "UnauthorizedOperation.UinNoAuth":
		return "The caller has no permission for the operation"
	case "UnknownParameter":
		return "Unknown parameter"
	}
	return ""
}
