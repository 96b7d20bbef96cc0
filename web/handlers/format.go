package handlers

import (
	"github.com/shopspring/decimal"

	"context"
	"fmt"
	"strconv"
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

// decimalUSD shows a stored decimal amount as dollars; "" stays "".
func decimalUSD(s string) string {
	if s == "" {
		return ""
	}
	a, err := partnerapi.NewAmount(s)
	if err != nil {
		return s
	}
	return formatUSD(a)
}

// usd shows an exact decimal as dollars.
func usd(d decimal.Decimal) string { return formatUSD(partnerapi.AmountFromDecimal(d)) }

// signedUSD shows an amount with its sign, "+" for a rise, so a change or
// a take-back reads as one.
func signedUSD(d decimal.Decimal) string {
	if d.IsPositive() {
		return "+" + usd(d)
	}
	return usd(d)
}

// formatTime shows a time to the minute in the reader's time zone, with the
// zone named by its offset ("2026-11-30 17:05 UTC+8").
func formatTime(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(zoneOf(ctx))
	return t.Format("2006-01-02 15:04") + " " + zoneLabel(t)
}

// formatTimeSeconds is formatTime to the second, so a refresh visibly
// changes it.
func formatTimeSeconds(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(zoneOf(ctx))
	return t.Format("2006-01-02 15:04:05") + " " + zoneLabel(t)
}

// zoneLabel names a time's zone by its offset from UTC: "UTC", "UTC+8",
// "UTC-3:30". Offsets are unambiguous where abbreviations ("CST") are not.
func zoneLabel(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	label := "UTC" + sign + strconv.Itoa(off/3600)
	if m := off % 3600 / 60; m != 0 {
		label += fmt.Sprintf(":%02d", m)
	}
	return label
}

type zoneKey struct{}

// withZone records the reader's time zone for formatTime.
func withZone(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, zoneKey{}, loc)
}

// zoneOf is the reader's time zone; UTC when none is known.
func zoneOf(ctx context.Context) *time.Location {
	if loc, ok := ctx.Value(zoneKey{}).(*time.Location); ok && loc != nil {
		return loc
	}
	return time.UTC
}

// formatAge says how long ago something was, in the reader's language.
func formatAge(ctx context.Context, d time.Duration) string {
	switch {
	case d < 5*time.Second:
		return tr(ctx, "age.now")
	case d < time.Minute:
		return tr(ctx, "age.seconds", map[string]any{"N": int(d / time.Second)})
	case d < time.Hour:
		return tr(ctx, "age.minutes", map[string]any{"N": int(d / time.Minute)})
	case d < 48*time.Hour:
		return tr(ctx, "age.hours", map[string]any{"N": int(d / time.Hour)})
	}
	return tr(ctx, "age.days", map[string]any{"N": int(d / (24 * time.Hour))})
}

// formatLeft says roughly how long something will still take.
func formatLeft(ctx context.Context, d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return tr(ctx, "duration.seconds", map[string]any{"N": max(1, int(d.Round(5*time.Second)/time.Second))})
	case d < 90*time.Minute:
		return tr(ctx, "duration.minutes", map[string]any{"N": int(d.Round(time.Minute) / time.Minute)})
	case d < 48*time.Hour:
		return tr(ctx, "duration.hours", map[string]any{"N": int(d.Round(time.Hour) / time.Hour)})
	}
	return tr(ctx, "duration.days", map[string]any{"N": int(d.Round(24*time.Hour) / (24 * time.Hour))})
}
