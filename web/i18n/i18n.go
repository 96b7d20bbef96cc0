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
	ids := map[string]map[string]bool{}
	for _, f := range []struct{ file, code string }{{"en.json", English}, {"zh-CN.json", Chinese}} {
		b, err := fs.ReadFile(localeFiles, "locales/"+f.file)
		if err != nil {
			return nil, fmt.Errorf("load messages: %w", err)
		}
		mf, err := bundle.ParseMessageFileBytes(b, f.file)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f.file, err)
		}
		ids[f.code] = map[string]bool{}
		for _, m := range mf.Messages {
			ids[f.code][m.ID] = true
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
