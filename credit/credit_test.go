package credit

import (
	"testing"

	"github.com/shopspring/decimal"

	"resellerportal/watch"
)

func TestLevelAndShare(t *testing.T) {
	// The default thresholds alone, as every customer has until someone
	// sets its own.
	for _, tc := range []struct {
		credit, remaining string
		severity          watch.Severity
		past              string // the most severe threshold passed
		share             string
	}{
		{"1000", "1000", watch.Fine, "", "100.0"},
		{"1000", "250.01", watch.Fine, "", "25.0"},
		{"1000", "250", watch.Low, "percent:25", "25.0"},
		{"1000", "100.00000001", watch.Low, "percent:25", "10.0"},
		{"1000", "100", watch.VeryLow, "percent:10", "10.0"},
		{"1000", "0.01", watch.VeryLow, "percent:10", "0.0"},
		{"1000", "0", watch.Empty, "percent:0", "0.0"},
		{"1000", "-3", watch.Empty, "percent:0", "-0.3"},
		{"0.3", "0.1", watch.Fine, "", "33.3"},
		{"0", "0", watch.Fine, "", ""},
		{"", "5", watch.Fine, "", ""},
		{"500", "", watch.Fine, "", ""},
		{"abc", "1", watch.Fine, "", ""},
	} {
		l := LevelOf(tc.credit, tc.remaining, watch.Thresholds{})
		if l.Severity != tc.severity || (l.Past() && l.Threshold.Key() != tc.past) || (!l.Past() && tc.past != "") {
			t.Errorf("LevelOf(%q, %q) = %d past %q, want %d past %q", tc.credit, tc.remaining, l.Severity, l.Threshold.Key(), tc.severity, tc.past)
		}
		if got := Share(tc.credit, tc.remaining); got != tc.share {
			t.Errorf("Share(%q, %q) = %q, want %q", tc.credit, tc.remaining, got, tc.share)
		}
	}
}

func TestLevelWithCustomThresholds(t *testing.T) {
	pct := func(v string) watch.Threshold {
		return watch.Threshold{Kind: watch.Percent, Value: decimal.RequireFromString(v)}
	}
	usd := func(v string) watch.Threshold {
		return watch.Threshold{Kind: watch.Amount, Value: decimal.RequireFromString(v)}
	}
	for _, tc := range []struct {
		name              string
		th                watch.Thresholds
		credit, remaining string
		severity          watch.Severity
		past, bound       string
	}{
		{"a custom per cent above the defaults", watch.Thresholds{Custom: []watch.Threshold{pct("50")}}, "1000", "400", watch.Low, "percent:50", "500"},
		{"the defaults still apply beside it", watch.Thresholds{Custom: []watch.Threshold{pct("50")}}, "1000", "90", watch.VeryLow, "percent:10", "100"},
		{"an amount in USD", watch.Thresholds{Custom: []watch.Threshold{usd("500")}}, "1000", "500", watch.Low, "amount:500", "500"},
		{"an amount just above", watch.Thresholds{Custom: []watch.Threshold{usd("500")}}, "1000", "500.01", watch.Fine, "", ""},
		{"the lowest amount passed is the most severe", watch.Thresholds{Custom: []watch.Threshold{usd("3000"), usd("2000")}}, "10000", "1999.99", watch.Low, "amount:2000", "2000"},
		{"an amount below the 25 % default wins", watch.Thresholds{Custom: []watch.Threshold{usd("200")}}, "1000", "150", watch.Low, "amount:200", "200"},
		{"defaults off: 20 % left is fine", watch.Thresholds{NoDefaults: true, Custom: []watch.Threshold{pct("5")}}, "1000", "200", watch.Fine, "", ""},
		{"defaults off: past its own 5 %", watch.Thresholds{NoDefaults: true, Custom: []watch.Threshold{pct("5")}}, "1000", "50", watch.VeryLow, "percent:5", "50"},
		{"defaults off and none: never watched", watch.Thresholds{NoDefaults: true}, "1000", "0", watch.Fine, "", ""},
		{"an amount without a credit line", watch.Thresholds{Custom: []watch.Threshold{usd("10")}}, "0", "0", watch.Empty, "amount:10", "10"},
		{"a per cent with decimals, exactly", watch.Thresholds{NoDefaults: true, Custom: []watch.Threshold{pct("12.5")}}, "0.8", "0.1", watch.Low, "percent:12.5", "0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := LevelOf(tc.credit, tc.remaining, tc.th)
			if l.Severity != tc.severity {
				t.Fatalf("severity %d, want %d", l.Severity, tc.severity)
			}
			if !l.Past() {
				return
			}
			if l.Threshold.Key() != tc.past || !l.Bound.Equal(decimal.RequireFromString(tc.bound)) {
				t.Errorf("past %s at %s, want %s at %s", l.Threshold.Key(), l.Bound, tc.past, tc.bound)
			}
		})
	}
}
