package handlers

import (
	"strings"
	"time"

	"resellerportal/partnerapi"
)

// formatUSD shows an amount in US dollars with two decimals and thousands
// separators, rounding half away from zero as invoices do.
func formatUSD(a partnerapi.Amount) string {
	s := a.Decimal().StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := "USD " + b.String() + "." + frac
	if neg {
		out = "−" + out
	}
	return out
}

// formatTime shows a time in UTC to the minute, the same for every viewer,
// which keeps audit figures comparable across offices.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
