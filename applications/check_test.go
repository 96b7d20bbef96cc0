package applications

import (
	"strconv"
	"strings"
	"testing"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
)

func TestCheck(t *testing.T) {
	staff := audit.Actor{Principal: auth.Principal{UserID: 1, Role: auth.RoleStaff}}
	sub := audit.Actor{Principal: auth.Principal{UserID: 2, Role: auth.RoleSubagent, SubagentUin: 77}}
	finance := audit.Actor{Principal: auth.Principal{UserID: 3, Role: auth.RoleFinance}}
	many := make([]string, MaxBulk+1)
	for i := range many {
		many[i] = strconv.Itoa(1000 + i)
	}
	tests := []struct {
		name   string
		actor  audit.Actor
		d      Decision
		kind   apperr.Kind // 0: accepted
		fields []string    // the fields refused
		uins   []uint64
	}{
		{"a customer approved", staff, Decision{Kind: Customer, Uins: []string{"123"}, Verdict: Pass}, 0, nil, []uint64{123}},
		{"a reseller rejected, reason trimmed", staff, Decision{Kind: Reseller, Uins: []string{" 9 "}, Verdict: Reject, Reason: " no "}, 0, nil, []uint64{9}},
		{"duplicates decided once", staff, Decision{Kind: Customer, Uins: []string{"5", "5", "6"}, Verdict: Pass}, 0, nil, []uint64{5, 6}},
		{"a reason of 200 characters", staff, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Reject, Reason: strings.Repeat("字", 200)}, 0, nil, []uint64{5}},
		{"a reseller's login, its customers", sub, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Pass}, 0, nil, []uint64{5}},
		{"a reseller's login, resellers", sub, Decision{Kind: Reseller, Uins: []string{"5"}, Verdict: Pass}, apperr.Forbidden, nil, nil},
		{"finance", finance, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Pass}, apperr.Forbidden, nil, nil},
		{"no kind", staff, Decision{Uins: []string{"5"}, Verdict: Pass}, apperr.Invalid, []string{"kind"}, nil},
		{"no verdict", staff, Decision{Kind: Customer, Uins: []string{"5"}}, apperr.Invalid, []string{"decision"}, nil},
		{"no reason", staff, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Reject, Reason: " \t"}, apperr.Invalid, []string{"reason"}, nil},
		{"reason too long", staff, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Reject, Reason: strings.Repeat("a", 201)}, apperr.Invalid, []string{"reason"}, nil},
		{"reason not UTF-8", staff, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Reject, Reason: "a\xffb"}, apperr.Invalid, []string{"reason"}, nil},
		{"reason with a newline", staff, Decision{Kind: Customer, Uins: []string{"5"}, Verdict: Reject, Reason: "a\nb"}, apperr.Invalid, []string{"reason"}, nil},
		{"nothing chosen", staff, Decision{Kind: Customer, Verdict: Pass}, apperr.Invalid, []string{"uin"}, nil},
		{"not a UIN", staff, Decision{Kind: Customer, Uins: []string{"5", "x5"}, Verdict: Pass}, apperr.Invalid, []string{"uin"}, nil},
		{"UIN zero", staff, Decision{Kind: Customer, Uins: []string{"0"}, Verdict: Pass}, apperr.Invalid, []string{"uin"}, nil},
		{"UIN negative", staff, Decision{Kind: Customer, Uins: []string{"-5"}, Verdict: Pass}, apperr.Invalid, []string{"uin"}, nil},
		{"UIN over 64 bits", staff, Decision{Kind: Customer, Uins: []string{"18446744073709551616"}, Verdict: Pass}, apperr.Invalid, []string{"uin"}, nil},
		{"too many", staff, Decision{Kind: Customer, Uins: many, Verdict: Pass}, apperr.Invalid, []string{"uin"}, nil},
		{"every field wrong", staff, Decision{Kind: Customer, Uins: []string{"?"}, Verdict: "maybe"}, apperr.Invalid, []string{"decision", "uin"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := check(tt.actor, tt.d)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(c.uins) != len(tt.uins) {
					t.Fatalf("UINs %v, want %v", c.uins, tt.uins)
				}
				for i := range c.uins {
					if c.uins[i] != tt.uins[i] {
						t.Fatalf("UINs %v, want %v", c.uins, tt.uins)
					}
				}
				if c.reason != strings.TrimSpace(tt.d.Reason) {
					t.Fatalf("reason %q", c.reason)
				}
				return
			}
			if apperr.KindOf(err) != tt.kind {
				t.Fatalf("got %v, want a %s error", err, tt.kind)
			}
			fields := apperr.Fields(err)
			for _, f := range tt.fields {
				if fields[f] == nil {
					t.Errorf("no problem with %s in %v", f, err)
				}
			}
		})
	}
}
