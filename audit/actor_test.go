package audit

import (
	"strings"
	"testing"

	"resellerportal/auth"
	"resellerportal/store"
)

func TestUntrustedName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"alice", "alice"},
		{"李雷", "李雷"},
		{"bob\r\nadmin logged in", `bob\r\nadmin logged in`},
		{"tab\there", `tab\there`},
		{`back\slash`, `back\\slash`},
		{"bad\xffbyte", `bad\x??byte`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{strings.Repeat("a", 10<<20), strings.Repeat("a", MaxNameLength) + "…"},
	}
	for _, tc := range cases {
		got := UntrustedName(tc.in)
		if got != tc.want {
			t.Errorf("UntrustedName(%.20q) = %.80q, want %.80q", tc.in, got, tc.want)
		}
	}
}

func TestEntryNamesTheResellerActedFor(t *testing.T) {
	sub := UserActor(store.User{ID: 7, Username: "r1", Role: "subagent", SubagentUin: 9001}, "10.0.0.1")
	staff := UserActor(store.User{ID: 8, Username: "s1", Role: "staff", SubagentUin: 9001}, "10.0.0.2")
	if e := sub.Entry("credit.allocate", 42, nil); e.OnBehalfOf != 9001 || e.Actor != "r1" || e.ClientAddr != "10.0.0.1" || e.Outcome != store.OutcomeOK {
		t.Fatalf("subagent entry %+v", e)
	}
	if e := staff.Entry("credit.allocate", 42, nil); e.OnBehalfOf != 0 {
		t.Fatalf("a staff member acts for nobody, got %d", e.OnBehalfOf)
	}
	if e := CommandLine().Entry("user.create", 0, nil); e.ActorRole != string(auth.RoleSystem) || e.ClientAddr != "local" {
		t.Fatalf("command line entry %+v", e)
	}
}
