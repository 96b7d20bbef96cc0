// Package i18n holds the portal's message catalogue in English and
// Simplified Chinese and picks a language for each request.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// Languages the portal speaks, by the code used in settings and forms.
const (
	English = "en"
	Chinese = "zh-CN"
)

// Language is one language the user can choose.
type Language struct {
	Code string // "en" or "zh-CN"
	Name string // the language's name in itself
}

// Known reports whether code is one of the portal's languages.
func Known(code string) bool { return code == English || code == Chinese }

// Languages lists the choices, in menu order.
func Languages() []Language {
	return []Language{{English, "English"}, {Chinese, "简体中文"}}
}

// Catalog is the loaded message catalogue.
type Catalog struct {
	bundle  *goi18n.Bundle
	matcher language.Matcher
	tags    map[language.Tag]string
	ids     []string
}

// New loads the embedded catalogue and checks that both languages carry
// the same messages.
func New() (*Catalog, error) {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	ids := map[string]map[string]bool{English: {}, Chinese: {}}
	files, err := LocaleFiles()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := fs.ReadFile(localeFiles, "locales/"+f.Name)
		if err != nil {
			return nil, fmt.Errorf("load messages: %w", err)
		}
		mf, err := bundle.ParseMessageFileBytes(b, f.Name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f.Name, err)
		}
		for _, m := range mf.Messages {
			if ids[f.Lang][m.ID] {
				return nil, fmt.Errorf("message %q is in more than one %s file", m.ID, f.Lang)
			}
			ids[f.Lang][m.ID] = true
		}
	}
	for id := range ids[English] {
		if !ids[Chinese][id] {
			return nil, fmt.Errorf("message %q has no Chinese text", id)
		}
	}
	for id := range ids[Chinese] {
		if !ids[English][id] {
			return nil, fmt.Errorf("message %q has no English text", id)
		}
	}
	all := make([]string, 0, len(ids[English]))
	for id := range ids[English] {
		all = append(all, id)
	}
	sort.Strings(all)
	zh := language.MustParse("zh-Hans")
	return &Catalog{
		bundle:  bundle,
		matcher: language.NewMatcher([]language.Tag{language.English, zh}),
		tags:    map[language.Tag]string{language.English: English, zh: Chinese},
		ids:     all,
	}, nil
}

// LocaleFile is one file of the catalogue: "en.json" and "zh-CN.json" hold
// the shared messages, "<area>.en.json" and "<area>.zh-CN.json" an area's.
type LocaleFile struct {
	Name string
	Lang string // English or Chinese
}

// LocaleFiles lists the catalogue's files.
func LocaleFiles() ([]LocaleFile, error) {
	entries, err := fs.ReadDir(localeFiles, "locales")
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	var out []LocaleFile
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == "en.json" || strings.HasSuffix(name, ".en.json"):
			out = append(out, LocaleFile{name, English})
		case name == "zh-CN.json" || strings.HasSuffix(name, ".zh-CN.json"):
			out = append(out, LocaleFile{name, Chinese})
		default:
			return nil, fmt.Errorf("locales/%s: name a catalogue file <area>.en.json or <area>.zh-CN.json", name)
		}
	}
	return out, nil
}

// ReadLocaleFile returns a catalogue file's messages, by id.
func ReadLocaleFile(name string) (map[string]string, error) {
	b, err := fs.ReadFile(localeFiles, "locales/"+name)
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("locales/%s: %w", name, err)
	}
	return m, nil
}

// MessageIDs returns every message id, sorted.
func (c *Catalog) MessageIDs() []string { return c.ids }

// Pick chooses the language: the user's saved choice when it is one we
// speak, else the best match for the browser's Accept-Language, else English.
func (c *Catalog) Pick(saved, acceptLanguage string) string {
	if saved == English || saved == Chinese {
		return saved
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return English
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return English
	}
	if idx == 1 {
		return Chinese
	}
	return English
}

// Localizer translates into one language.
type Localizer struct {
	lang string
	l    *goi18n.Localizer
}

// Localizer returns a translator into lang ("en" or "zh-CN").
func (c *Catalog) Localizer(lang string) *Localizer {
	tag := "en"
	if lang == Chinese {
		tag = "zh-Hans"
	} else {
		lang = English
	}
	return &Localizer{lang: lang, l: goi18n.NewLocalizer(c.bundle, tag)}
}

// Lang returns the language code ("en" or "zh-CN"), also usable as an HTML lang.
func (l *Localizer) Lang() string {
	if l == nil {
		return English
	}
	return l.lang
}

// APILanguage returns the partner API's name of the language.
func (l *Localizer) APILanguage() string {
	if l.Lang() == Chinese {
		return "zh-CN"
	}
	return "en-US"
}

// T translates a message, filling its {{.Name}} placeholders from data. A
// missing message shows its id, which tests catch before users do.
func (l *Localizer) T(id string, data ...map[string]any) string {
	if l == nil {
		return id
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		cfg.TemplateData = data[0]
	}
	s, err := l.l.Localize(cfg)
	if err != nil {
		return id
	}
	return s
}

type ctxKey struct{}

// WithLocalizer returns a context carrying l.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the context's localizer, or nil when there is none; a nil
// Localizer answers every message with its id.
func From(ctx context.Context) *Localizer {
	l, _ := ctx.Value(ctxKey{}).(*Localizer)
	return l
}

// T translates a message in the context's language.
func T(ctx context.Context, id string, data ...map[string]any) string {
	return From(ctx).T(id, data...)
}
