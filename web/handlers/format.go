package handlers

import (
	"context"
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

// formatTimeSeconds shows a time in UTC to the second, so a refresh
// visibly changes it.
func formatTimeSeconds(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
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
