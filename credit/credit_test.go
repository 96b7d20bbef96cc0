package credit

import "testing"

func TestLevelAndShare(t *testing.T) {
	for _, tc := range []struct {
		credit, remaining string
		level             Level
		share             string
	}{
		{"1000", "1000", LevelOK, "100.0"},
		{"1000", "250.01", LevelOK, "25.0"},
		{"1000", "250", Level25, "25.0"},
		{"1000", "100.00000001", Level25, "10.0"},
		{"1000", "100", Level10, "10.0"},
		{"1000", "0.01", Level10, "0.0"},
		{"1000", "0", LevelEmpty, "0.0"},
		{"1000", "-3", LevelEmpty, "-0.3"},
		{"0.3", "0.1", LevelOK, "33.3"},
		{"0", "0", LevelOK, ""},
		{"", "5", LevelOK, ""},
		{"500", "", LevelOK, ""},
		{"abc", "1", LevelOK, ""},
	} {
		if got := LevelOf(tc.credit, tc.remaining); got != tc.level {
			t.Errorf("LevelOf(%q, %q) = %d, want %d", tc.credit, tc.remaining, got, tc.level)
		}
		if got := Share(tc.credit, tc.remaining); got != tc.share {
			t.Errorf("Share(%q, %q) = %q, want %q", tc.credit, tc.remaining, got, tc.share)
		}
	}
}
