package sandbox

import "strings"

// Masking of personal data the way the published examples show it. The
// documentation shows no rule, only one masked value per action, so the
// rules below reproduce those values' shape.

// maskCustomerMail masks an address the way QueryCustomersCredit's example
// does ("abcd*********@tencent.com" for a seven-letter local part): the
// first four characters of the local part (half of it, rounded up, when it
// is shorter than eight), nine asterisks, then the domain.
func maskCustomerMail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return strings.Repeat("*", 9)
	}
	r := []rune(local)
	keep := min(4, (len(r)+1)/2)
	return string(r[:keep]) + strings.Repeat("*", 9) + "@" + domain
}

// maskInvitationMail masks an address the way QueryInvitationInfo's example
// does ("1**********8@gmail.com"): the first and last characters of the
// local part around ten asterisks (only the first when it is one character
// long), then the domain.
func maskInvitationMail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return strings.Repeat("*", 10)
	}
	r := []rune(local)
	out := string(r[:1]) + strings.Repeat("*", 10)
	if len(r) > 1 {
		out += string(r[len(r)-1:])
	}
	return out + "@" + domain
}

// maskMobile masks a mobile number the way QueryPendingClientsV2's example
// does ("188****1234" for an eleven-digit number): the first three and last
// four digits around four asterisks; numbers shorter than eleven digits
// keep two digits at each end.
func maskMobile(m string) string {
	switch n := len(m); {
	case n >= 11:
		return m[:3] + "****" + m[n-4:]
	case n >= 5:
		return m[:2] + "****" + m[n-2:]
	default:
		return "****"
	}
}
