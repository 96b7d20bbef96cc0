// Package templates holds the portal's templ components. Components take
// view models shaped like the screen, do no I/O, and translate their words
// through the context's localizer.
package templates

import (
	"resellerportal/web/i18n"
)

// Page is what every full page shares: the shell around its content.
type Page struct {
	TitleID   string // message id of the page title
	Lang      string
	Assets    Assets
	Sandbox   bool
	User      *SignedIn // nil on the login page
	Nav       []NavItem
	Flash     *Flash
	RequestID string
	Languages []i18n.Language
}

// Assets are the URLs of the stylesheets and scripts.
type Assets struct {
	Pico, AppCSS, HTMX, AppJS string
}

// SignedIn describes the user in the top bar.
type SignedIn struct {
	Username    string
	DisplayName string
	Role        string
}

// NavItem is one entry of the side navigation.
type NavItem struct {
	LabelID string
	Href    string
	Current bool
	GroupID string // message id of the group heading this entry starts, if any
	Count   int    // things waiting there for the reader (approval requests), shown beside the label
}

// NavGroup is a run of navigation entries under one heading ("" for none).
type NavGroup struct {
	LabelID string
	Items   []NavItem
}

// navGroups cuts the entries into their groups.
func navGroups(items []NavItem) []NavGroup {
	var out []NavGroup
	for _, it := range items {
		if len(out) == 0 || it.GroupID != "" {
			out = append(out, NavGroup{LabelID: it.GroupID})
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, it)
	}
	return out
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "ok", "error" or "info"
	Message string
}

// APIProblem is a partner API failure told in plain words.
type APIProblem struct {
	Message   string
	RequestID string
	// Info marks a normal limitation rather than a failure.
	Info bool
}
