package handlers

import (
	"strings"

	"resellerportal/web/templates"
)

// describeBrowser names a user agent for people ("Chrome" on "Linux"); an
// agent it does not recognise is named by nothing, and the page says so.
func describeBrowser(ua string) templates.Browser {
	var b templates.Browser
	// Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
	for _, c := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, c.token) {
			b.Name = c.name
			break
		}
	}
	for _, c := range []struct{ token, name string }{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, c.token) {
			b.System = c.name
			break
		}
	}
	if b.Name != "" && b.System == "" {
		b.System = "?"
	}
	return b
}
