package sandbox

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeRequest feeds (action, body) pairs to the request decoder: it
// must never panic, must always answer with a code and a message, and a
// body it accepts must come out as JSON that decodes again to itself.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ action, body string }{
		{"QueryPartnerCredit", `{}`},
		{"QueryPartnerCredit", ``},
		{"AllocateCustomerCredit", `{"AddedCredit":100.5,"ClientUin":800000232018,"Remark":"x"}`},
		{"AllocateCustomerCredit", `{"AddedCredit":"12.5","ClientUin":"2"}`},
		{"ApproveClientApply", `{"ClientUin":"1000000000","ApproveType":"pass"}`},
		{"QueryCreditByUinList", `{"UinList":[1,2,3]}`},
		{"QueryCreditByUinList", `{"UinList":[]}`},
		{"QueryCustomersCredit", `{"FilterType":"Name","Filter":"a","Page":1,"PageSize":10,"Order":"desc"}`},
		{"DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":{"BusinessIn":["p_cvm"]}`)},
		{"CreateAccount", createAccountBody(`"AccountType":"personal"`)},
		{"DescribeCustomerBillDetailByDay", `{"CustomerUin":1,"Date":"2025-06-25"}`},
		{"ForceQN", `{"ClientUin":1,"Type":2}`},
		{"QueryPartnerCredit", `[`},
		{"QueryPartnerCredit", `{"a":`},
		{"AllocateCustomerCredit", `{"AddedCredit":1e400,"ClientUin":-1}`},
		{"QueryPartnerCredit", "\x00\xff\xfe garbage"},
		{"QueryPartnerCredit", strings.Repeat("[", 20_000)},
		{"DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":` + strings.Repeat(`{"a":`, 1000))},
		{"NoSuchAction", `{}`},
		{"QueryPartnerCredit", `null`},
	}
	for _, s := range seeds {
		f.Add(s.action, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, action string, body []byte) {
		out, e := decodeRequest(action, body)
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %#v", e)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("accepted body normalised to invalid JSON: %s", out)
		}
		again, e := decodeRequest(action, out)
		if e != nil {
			t.Fatalf("normalised body %s rejected: %v", out, e)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("normalising is not stable: %s then %s", out, again)
		}
	})
}
