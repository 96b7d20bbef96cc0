package customers

import (
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
)

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return now }})
	staff := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleStaff}}
	sub := audit.Actor{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: 77}}
	yes, no := true, false

	tests := []struct {
		name  string
		actor audit.Actor
		q     Query
		field string // the field at fault; "-" for none, "" for the form's
		check func(t *testing.T, f Filters)
	}{
		{"defaults: newest bound first", staff, Query{}, "-", func(t *testing.T, f Filters) {
			if f.store.Sort != "bind_time" || !f.store.Desc || f.store.Limit != PerPage || f.store.Offset != 0 || f.store.ResellerUin != nil {
				t.Errorf("%+v", f.store)
			}
			if f.store.Month != "2026-11" {
				t.Errorf("month %q", f.store.Month)
			}
		}},
		{"text trimmed", staff, Query{Text: "  acme  "}, "-", func(t *testing.T, f Filters) {
			if f.store.Text != "acme" {
				t.Errorf("text %q", f.store.Text)
			}
		}},
		{"verified", staff, Query{Verified: "yes"}, "-", func(t *testing.T, f Filters) {
			if f.store.AuthStatus != verifiedStatus || f.store.NotAuthStatus != "" {
				t.Errorf("%+v", f.store)
			}
		}},
		{"not verified", staff, Query{Verified: "no"}, "-", func(t *testing.T, f Filters) {
			if f.store.NotAuthStatus != verifiedStatus || f.store.AuthStatus != "" {
				t.Errorf("%+v", f.store)
			}
		}},
		{"suspended and spend", staff, Query{Suspended: "yes", Spend: "no"}, "-", func(t *testing.T, f Filters) {
			if f.store.Suspended == nil || *f.store.Suspended != yes || f.store.HasSpendThisMonth == nil || *f.store.HasSpendThisMonth != no {
				t.Errorf("%+v", f.store)
			}
		}},
		{"direct customers", staff, Query{Reseller: "direct"}, "-", func(t *testing.T, f Filters) {
			if f.store.ResellerUin == nil || *f.store.ResellerUin != 0 {
				t.Errorf("reseller %v", f.store.ResellerUin)
			}
		}},
		{"a reseller's", staff, Query{Reseller: "42"}, "-", func(t *testing.T, f Filters) {
			if f.store.ResellerUin == nil || *f.store.ResellerUin != 42 {
				t.Errorf("reseller %v", f.store.ResellerUin)
			}
		}},
		{"page 3 by credit, descending", staff, Query{Sort: "credit", Desc: "1", Page: "3"}, "-", func(t *testing.T, f Filters) {
			if f.store.Sort != "credit" || !f.store.Desc || f.store.Offset != 2*PerPage || f.PageNumber() != 3 {
				t.Errorf("%+v", f.store)
			}
		}},
		{"a reseller's login is held to its customers", sub, Query{}, "-", func(t *testing.T, f Filters) {
			if f.store.ResellerUin == nil || *f.store.ResellerUin != 77 {
				t.Errorf("reseller %v", f.store.ResellerUin)
			}
		}},
		{"a reseller's login naming itself", sub, Query{Reseller: "77"}, "-", nil},
		{"a reseller's login asking for the direct customers", sub, Query{Reseller: "direct"}, "reseller", nil},
		{"a reseller's login asking for another", sub, Query{Reseller: "78"}, "reseller", nil},
		{"text too long", staff, Query{Text: string(make([]byte, MaxSearchText+1))}, "q", nil},
		{"text not UTF-8", staff, Query{Text: "\xff"}, "q", nil},
		{"unknown verified", staff, Query{Verified: "1"}, "verified", nil},
		{"unknown suspended", staff, Query{Suspended: "true"}, "suspended", nil},
		{"unknown spend", staff, Query{Spend: "maybe"}, "spend", nil},
		{"watch level", staff, Query{Watch: "10"}, "-", func(t *testing.T, f Filters) {
			if f.store.CreditAtMost == nil || *f.store.CreditAtMost != 10 {
				t.Errorf("credit at most %v", f.store.CreditAtMost)
			}
		}},
		{"past any of its thresholds", staff, Query{Watch: "any"}, "-", func(t *testing.T, f Filters) {
			if !f.store.Watched || f.store.CreditAtMost != nil {
				t.Errorf("watched %v, credit at most %v", f.store.Watched, f.store.CreditAtMost)
			}
		}},
		{"unknown watch level", staff, Query{Watch: "50"}, "watch", nil},
		{"reseller 0", staff, Query{Reseller: "0"}, "reseller", nil},
		{"reseller negative", staff, Query{Reseller: "-5"}, "reseller", nil},
		{"unknown sort", staff, Query{Sort: "secret_key"}, "", nil},
		{"unknown direction", staff, Query{Sort: "name", Desc: "yes"}, "", nil},
		{"page 0", staff, Query{Page: "0"}, "", nil},
		{"page past the last allowed", staff, Query{Page: "10001"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := s.ParseQuery(tt.actor, tt.q)
			if tt.field == "-" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tt.check != nil {
					tt.check(t, f)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || e.Field != tt.field {
				t.Fatalf("err = %v, want invalid %q", err, tt.field)
			}
		})
	}
}
