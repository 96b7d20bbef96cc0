package partnerapi

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2026-11-30 08:00:00", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), false},
		{" 2026-01-01 07:59:59 ", time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"", time.Time{}, false},
		{"-", time.Time{}, false},
		{"2026-11-30T08:00:00Z", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	} {
		got, err := ParseTime(tc.in)
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
