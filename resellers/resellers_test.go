package resellers

import (
	"strings"
	"testing"

	"resellerportal/apperr"
)

func TestCheckQuery(t *testing.T) {
	tests := []struct {
		name   string
		in     ListInput
		want   Query
		fields []string // refused fields; nil when accepted
	}{
		{"nothing", ListInput{}, Query{Order: Newest, Page: 1}, nil},
		{"a name, oldest first, page 3", ListInput{FilterType: "Name", Filter: " Acme ", Order: "asc", Page: "3"}, Query{FilterType: "Name", Filter: "Acme", Order: Oldest, Page: 3}, nil},
		{"a type without a value filters nothing", ListInput{FilterType: "Email"}, Query{Order: Newest, Page: 1}, nil},
		{"an exact UIN", ListInput{FilterType: "SubAgentUin", Filter: "200000000001"}, Query{FilterType: "SubAgentUin", Filter: "200000000001", Order: Newest, Page: 1}, nil},
		{"a long email", ListInput{FilterType: "Email", Filter: strings.Repeat("a", 240) + "@example.com"}, Query{FilterType: "Email", Filter: strings.Repeat("a", 240) + "@example.com", Order: Newest, Page: 1}, nil},
		{"unknown type", ListInput{FilterType: "Phone", Filter: "1"}, Query{}, []string{"filter_type"}},
		{"value without a type", ListInput{Filter: "x"}, Query{}, []string{"filter_type"}},
		{"UIN with letters", ListInput{FilterType: "ClientUin", Filter: "12a"}, Query{}, []string{"filter"}},
		{"UIN zero", ListInput{FilterType: "SubAgentUin", Filter: "0"}, Query{}, []string{"filter"}},
		{"too long", ListInput{FilterType: "Remark", Filter: strings.Repeat("备", 101)}, Query{}, []string{"filter"}},
		{"control character", ListInput{FilterType: "Name", Filter: "a\x07"}, Query{}, []string{"filter"}},
		{"not UTF-8", ListInput{FilterType: "Name", Filter: "a\xff"}, Query{}, []string{"filter"}},
		{"unknown order", ListInput{Order: "random"}, Query{}, []string{"order"}},
		{"page zero", ListInput{Page: "0"}, Query{}, []string{"page"}},
		{"page words", ListInput{Page: "two"}, Query{}, []string{"page"}},
		{"page too far", ListInput{Page: "10001"}, Query{}, []string{"page"}},
		{"all wrong", ListInput{FilterType: "X", Order: "Y", Page: "-1"}, Query{}, []string{"filter_type", "order", "page"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := checkQuery(tt.in)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if q != tt.want {
					t.Fatalf("query %+v, want %+v", q, tt.want)
				}
				return
			}
			fields := apperr.Fields(err)
			for _, f := range tt.fields {
				if fields[f] == nil || fields[f].Kind != apperr.Invalid {
					t.Errorf("no problem with %s in %v", f, err)
				}
			}
		})
	}
}

func TestParseUin(t *testing.T) {
	for s, want := range map[string]uint64{"1": 1, " 200000000001 ": 200000000001, "18446744073709551615": 18446744073709551615} {
		if got, ok := ParseUin(s); !ok || got != want {
			t.Errorf("ParseUin(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "0", "-1", "+1", "1e3", "18446744073709551616", strings.Repeat("1", 21), "１２"} {
		if _, ok := ParseUin(s); ok {
			t.Errorf("ParseUin(%q) accepted", s)
		}
	}
}
