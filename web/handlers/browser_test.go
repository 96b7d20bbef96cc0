package handlers

import "testing"

func TestDescribeBrowser(t *testing.T) {
	cases := []struct{ ua, name, system string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", "Chrome", "Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "Edge", "Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari", "macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1", "Chrome", "iOS"},
		{"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", "Android"},
		{"Go-http-client/1.1", "", ""},
		{"", "", ""},
	}
	for _, tc := range cases {
		if b := describeBrowser(tc.ua); b.Name != tc.name || b.System != tc.system {
			t.Errorf("describeBrowser(%.40q) = %q on %q, want %q on %q", tc.ua, b.Name, b.System, tc.name, tc.system)
		}
	}
}
