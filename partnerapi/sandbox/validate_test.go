package sandbox

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func uinListBody(n int) string {
	uins := make([]string, n)
	for i := range uins {
		uins[i] = "1000"
	}
	return `{"UinList":[` + strings.Join(uins, ",") + `]}`
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name   string
		action string
		body   string
		want   string // error code, "" when valid
		norm   string // the normalised body, checked when set
	}{
		{"empty object", "QueryPartnerCredit", `{}`, "", `{}`},
		{"empty body", "QueryPartnerCredit", ``, "", `{}`},
		{"unknown action", "Nope", `{}`, "InvalidAction", ""},
		{"valid", "AllocateCustomerCredit", `{"AddedCredit":100.5,"ClientUin":800000232018,"Remark":"x"}`, "",
			`{"AddedCredit":100.5,"ClientUin":800000232018,"Remark":"x"}`},
		{"missing required", "AllocateCustomerCredit", `{"AddedCredit":1}`, "MissingParameter", ""},
		{"required null", "AllocateCustomerCredit", `{"AddedCredit":1,"ClientUin":null}`, "MissingParameter", ""},
		{"optional null dropped", "AllocateCustomerCredit", `{"AddedCredit":1,"ClientUin":2,"Remark":null}`, "", `{"AddedCredit":1,"ClientUin":2}`},
		{"unknown member", "QueryPartnerCredit", `{"Foo":1}`, "UnknownParameter", ""},
		{"member names are case-sensitive", "AllocateCustomerCredit", `{"addedCredit":1,"ClientUin":2}`, "UnknownParameter", ""},
		{"string given a number", "ModifyClientRemark", `{"ClientUin":123,"Remark":"r"}`, "InvalidParameter", ""},
		{"int given a bool", "ApproveClientApply", `{"ClientUin":true,"ApproveType":"pass"}`, "InvalidParameter", ""},
		{"int given a fraction", "ApproveClientApply", `{"ClientUin":1.5,"ApproveType":"pass"}`, "InvalidParameter", ""},
		{"int numeric string accepted", "ApproveClientApply", `{"ClientUin":"1000000000","ApproveType":"pass"}`, "",
			`{"ApproveType":"pass","ClientUin":1000000000}`},
		{"int non-numeric string", "ApproveClientApply", `{"ClientUin":"12a","ApproveType":"pass"}`, "InvalidParameter", ""},
		{"int64 overflow", "ApproveClientApply", `{"ClientUin":9223372036854775808,"ApproveType":"pass"}`, "InvalidParameter", ""},
		{"uint64 negative", "AllocateCustomerCredit", `{"AddedCredit":1,"ClientUin":-1}`, "InvalidParameter", ""},
		{"uint64 max", "AllocateCustomerCredit", `{"AddedCredit":1,"ClientUin":18446744073709551615}`, "", ""},
		{"huge number", "AllocateCustomerCredit", `{"AddedCredit":1,"ClientUin":1` + strings.Repeat("0", 400) + `}`, "InvalidParameter", ""},
		{"float given a string number", "AllocateCustomerCredit", `{"AddedCredit":"12.5","ClientUin":2}`, "", `{"AddedCredit":12.5,"ClientUin":2}`},
		{"float given text", "AllocateCustomerCredit", `{"AddedCredit":"lots","ClientUin":2}`, "InvalidParameter", ""},
		{"float given inf", "AllocateCustomerCredit", `{"AddedCredit":"Inf","ClientUin":2}`, "InvalidParameter", ""},
		{"float overflow", "AllocateCustomerCredit", `{"AddedCredit":1e400,"ClientUin":2}`, "InvalidParameter", ""},
		{"float given an object", "AllocateCustomerCredit", `{"AddedCredit":{},"ClientUin":2}`, "InvalidParameter", ""},
		{"list given a scalar", "QueryCreditByUinList", `{"UinList":1000}`, "InvalidParameter", ""},
		{"list item of wrong type", "QueryCreditByUinList", `{"UinList":["a"]}`, "InvalidParameter", ""},
		{"list item null", "QueryCreditByUinList", `{"UinList":[null]}`, "InvalidParameter", ""},
		{"object given a string", "DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":"x"`), "InvalidParameter", ""},
		{"object with unknown member", "DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":{"Nope":[]}`), "UnknownParameter", ""},
		{"object member of wrong type", "DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":{"BusinessIn":"p_cvm"}`), "InvalidParameter", ""},
		{"object valid", "DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":{"BusinessIn":["p_cvm"],"TagKey":"k"}`), "", ""},
		{"UinList 0", "QueryCreditByUinList", uinListBody(0), "InvalidParameterValue.UinList", ""},
		{"UinList 1", "QueryCreditByUinList", uinListBody(1), "", ""},
		{"UinList 50", "QueryCreditByUinList", uinListBody(50), "", ""},
		{"UinList 51", "QueryCreditByUinList", uinListBody(51), "InvalidParameterValue.UinList", ""},
		{"ClientUins 21", "QueryVoucherAmountByUin", `{"ClientUins":[` + strings.Repeat("1,", 20) + `1]}`, "InvalidParameterValue", ""},
		{"CustomerUin list empty", "DescribeCustomerInfo", `{"CustomerUin":[]}`, "InvalidParameterValue", ""},
		{"tokens 101", "QueryInvitationInfo", `{"InvitationToken":[` + strings.Repeat(`"t",`, 100) + `"t"]}`, "InvalidParameterValue", ""},
		{"page 0", "QueryPendingClientsV2", `{"Page":0,"PageSize":10}`, "InvalidParameter.Page", ""},
		{"page negative", "QueryPendingClientsV2", `{"Page":-3,"PageSize":10}`, "InvalidParameter.Page", ""},
		{"page size 0", "QueryPendingClientsV2", `{"Page":1,"PageSize":0}`, "InvalidParameter.Page", ""},
		{"page size 100", "QueryPendingClientsV2", `{"Page":1,"PageSize":100}`, "", ""},
		{"page size too big", "QueryPendingClientsV2", `{"Page":1,"PageSize":101}`, "InvalidParameter.Page", ""},
		{"page size 200 where documented", "DescribeCustomerBillDetail", `{"CustomerUin":1,"Month":"2025-01","Page":1,"PageSize":200}`, "", ""},
		{"uint64 page size huge", "QueryCreditAllocationHistory", `{"ClientUin":1,"Page":1,"PageSize":18446744073709551615}`, "InvalidParameter.Page", ""},
		{"bad month", "DescribeBillSummaryByProduct", `{"BillMonth":"2025-13","CustomerUin":1}`, "InvalidParameterValue.InvalidMonth", ""},
		{"month without zero", "DescribeBillSummary", `{"Month":"2025-1","GroupType":"product"}`, "InvalidParameterValue.InvalidMonth", ""},
		{"month as date", "DescribeCustomerBillSummary", `{"CustomerUin":1,"Month":"2025-01-01"}`, "InvalidParameterValue.InvalidMonth", ""},
		{"bad day", "DescribeCustomerBillDetailByDay", `{"CustomerUin":1,"Date":"2025-02-30"}`, "InvalidParameterValue", ""},
		{"good day", "DescribeCustomerBillDetailByDay", `{"CustomerUin":1,"Date":"2025-06-25"}`, "", ""},
		{"bad ApproveType", "ApproveClientApply", `{"ClientUin":1,"ApproveType":"maybe"}`, "InvalidParameterValue", ""},
		{"bad AccountType", "CreateAccount", createAccountBody(`"AccountType":"business"`), "InvalidParameter.AccountTypeContentIncorrect", ""},
		{"empty AccountType", "CreateAccount", createAccountBody(`"AccountType":""`), "InvalidParameterValue.AccountTypeEmpty", ""},
		{"good CreateAccount", "CreateAccount", createAccountBody(`"AccountType":"company"`), "", ""},
		{"bad FileType L1", "DescribeBillDownloadUrl", `{"Month":"2025-01","FileType":"L1"}`, "InvalidParameterValue", ""},
		{"FileType of another action", "DescribeCustomerBillDownloadUrl", `{"Month":"2025-01","FileType":"L3","CustomerUinType":"Customer"}`, "InvalidParameterValue", ""},
		{"bad CustomerUinType", "DescribeCustomerBillDownloadUrl", `{"Month":"2025-01","FileType":"billDetail","CustomerUinType":"x"}`, "InvalidParameterValue", ""},
		{"bad FileLanguage", "DescribeCustomerBillDownloadUrl", `{"Month":"2025-01","FileType":"billDetail","CustomerUinType":"Customer","FileLanguage":"fr"}`, "InvalidParameterValue", ""},
		{"bad rebate FileType", "DescribeRebateDownloadUrl", `{"Month":"2025-01","FileType":"Commission"}`, "InvalidParameterValue", ""},
		{"bad PayMode", "DescribeCustomerBillSummary", `{"CustomerUin":1,"Month":"2025-01","PayMode":"free"}`, "InvalidParameterValue", ""},
		{"bad IsConfirmed", "DescribeCustomerBillSummary", `{"CustomerUin":1,"Month":"2025-01","IsConfirmed":"3"}`, "InvalidParameterValue", ""},
		{"empty optional filter", "DescribeCustomerBillSummary", `{"CustomerUin":1,"Month":"2025-01","PayMode":""}`, "", ""},
		{"bad GroupType", "DescribeBillSummary", `{"Month":"2025-01","GroupType":"region"}`, "InvalidParameterValue", ""},
		{"bad VoucherStatus", "DescribeCustomerVoucherList", `{"Page":1,"PageSize":10,"VoucherStatus":"Issused"}`, "InvalidParameterValue", ""},
		{"bad PaymentMode", "DescribeCustomerOwnVoucherList", `{"Page":1,"PageSize":10,"PaymentMode":"Cash"}`, "InvalidParameterValue", ""},
		{"bad ProductScope", "DescribeCustomerOwnVoucherList", `{"Page":1,"PageSize":10,"ProductScope":"Some"}`, "InvalidParameterValue", ""},
		{"bad Usage", "DescribeCustomerVoucherList", `{"Page":1,"PageSize":10,"Usage":"Gift"}`, "InvalidParameterValue", ""},
		{"bad Status", "QueryVoucherListByUin", `{"ClientUins":[1],"Status":"Issued"}`, "InvalidParameterValue", ""},
		{"bad FilterType", "QueryCustomersCredit", `{"FilterType":"Mobile"}`, "InvalidParameterValue", ""},
		{"sub-agent FilterType", "QuerySubAgentsDetailV2", `{"Page":1,"PageSize":10,"FilterType":"Mobile"}`, "", ""},
		{"bad Order", "QueryCustomersCredit", `{"Order":"random"}`, "InvalidParameterValue", ""},
		{"Order case-insensitive", "QuerySubAgentsDetailV2", `{"Page":1,"PageSize":10,"Order":"Desc"}`, "", ""},
		{"bad InvitationRole", "CreateAndSendClientInvitationMail", `{"Email":"a@b.c","InvitationRole":"Boss"}`, "InvalidParameterValue", ""},
		{"bad PeriodType", "DescribeCustomerOwnCostExplorerFilter", `{"StartTime":"2025-01-01 00:00:00","EndTime":"2025-02-01 00:00:00","PeriodType":"week"}`, "InvalidParameterValue", ""},
		{"bad StartTime", "DescribeCustomerOwnCostExplorerFilter", `{"StartTime":"2025-01-01","EndTime":"2025-02-01 00:00:00","PeriodType":"day"}`, "InvalidParameterValue", ""},
		{"bad Dimension", "DescribeCustomerOwnCostExplorerSummary", strings.Replace(costSummaryBody(""), `"Default"`, `"Galaxy"`, 1), "InvalidParameterValue.InvalidDimension", ""},
		{"bad FeeType", "DescribeCustomerOwnCostExplorerSummary", strings.Replace(costSummaryBody(""), `"totalCost"`, `"someCost"`, 1), "InvalidParameterValue", ""},
		{"bad BillType", "DescribeCustomerOwnCostExplorerSummary", strings.Replace(costSummaryBody(""), `"BillType":1`, `"BillType":2`, 1), "InvalidParameterValue", ""},
		{"ForceQN Type 2", "ForceQN", `{"ClientUin":1,"Type":2}`, "", ""},
		{"ForceQN Type 1", "ForceQN", `{"ClientUin":1,"Type":1}`, "InvalidParameterValue", ""},
		{"null body", "QueryPartnerCredit", `null`, "InvalidParameter", ""},
		{"top-level array", "QueryPartnerCredit", `[{}]`, "InvalidParameter", ""},
		{"top-level string", "QueryPartnerCredit", `"x"`, "InvalidParameter", ""},
		{"truncated", "AllocateCustomerCredit", `{"AddedCredit":1,"ClientUin":`, "InvalidParameter", ""},
		{"garbage", "QueryPartnerCredit", "\x00\xff garbage", "InvalidParameter", ""},
		{"trailing data", "QueryPartnerCredit", `{} {}`, "InvalidParameter", ""},
		{"nesting 100,000 deep", "QueryPartnerCredit", `{"a":` + strings.Repeat("[", 100_000), "InvalidParameter", ""},
		{"nesting deep in a member", "DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":` + strings.Repeat(`{"a":`, 100_000)), "InvalidParameter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, e := decodeRequest(tt.action, []byte(tt.body))
			got := ""
			if e != nil {
				got = e.Code
				if e.Message == "" {
					t.Error("error without a message")
				}
			}
			if got != tt.want {
				msg := ""
				if e != nil {
					msg = e.Message
				}
				t.Fatalf("code %q (%s), want %q", got, msg, tt.want)
			}
			if e == nil && !json.Valid(out) {
				t.Fatalf("normalised body is not JSON: %s", out)
			}
			if tt.norm != "" && !sameJSON(t, out, []byte(tt.norm)) {
				t.Errorf("normalised body %s, want %s", out, tt.norm)
			}
		})
	}
}

func TestMessagesNameTheMember(t *testing.T) {
	tests := []struct {
		action, body, member string
	}{
		{"AllocateCustomerCredit", `{"AddedCredit":1}`, "ClientUin"},
		{"QueryPartnerCredit", `{"Mystery":1}`, "Mystery"},
		{"DescribeCustomerOwnCostExplorerSummary", costSummaryBody(`"Filter":{"BusinessIn":[1]}`), "Filter.BusinessIn.0"},
	}
	for _, tt := range tests {
		_, e := decodeRequest(tt.action, []byte(tt.body))
		if e == nil || !strings.Contains(e.Message, "`"+tt.member+"`") {
			t.Errorf("%s %s: error %v does not name `%s`", tt.action, tt.body, e, tt.member)
		}
	}
}

func TestDecodeQuery(t *testing.T) {
	tests := []struct {
		name   string
		action string
		query  string
		want   string
		norm   string
	}{
		{"scalars converted", "QueryCreditAllocationHistory", "ClientUin=5&Page=1&PageSize=20", "", `{"ClientUin":5,"Page":1,"PageSize":20}`},
		{"list", "QueryCreditByUinList", "UinList.0=7&UinList.1=8", "", `{"UinList":[7,8]}`},
		{"list order by index", "QueryCreditByUinList", "UinList.1=8&UinList.0=7", "", `{"UinList":[7,8]}`},
		{"leading zero index", "QueryCreditByUinList", "UinList.00=7", "InvalidParameter", ""},
		{"huge index", "QueryCreditByUinList", "UinList.99999999999=7", "InvalidParameter", ""},
		{"gap", "QueryCreditByUinList", "UinList.1=8", "InvalidParameter", ""},
		{"repeated key", "QueryCreditByUinList", "UinList.0=8&UinList.0=9", "InvalidParameter", ""},
		{"nested", "DescribeCustomerOwnCostExplorerSummary",
			"Dimension=Default&FeeType=totalCost&BillType=1&PeriodType=day&StartTime=2025-01-01+00%3A00%3A00&EndTime=2025-01-31+00%3A00%3A00&Page=1&PageSize=10&Filter.BusinessIn.0=p_cvm&Filter.TagKey=k",
			"", ""},
		{"object without member", "DescribeCustomerOwnCostExplorerSummary", "Filter=x", "InvalidParameter", ""},
		{"scalar with member", "QueryCreditAllocationHistory", "ClientUin.x=1", "UnknownParameter", ""},
		{"unknown", "QueryPartnerCredit", "Surprise=1", "UnknownParameter", ""},
		{"common ignored", "QueryPartnerCredit", "Action=QueryPartnerCredit&Version=2022-09-28&Nonce=3", "", `{}`},
		{"strings stay strings", "ModifyClientRemark", "ClientUin=12&Remark=hello", "", `{"ClientUin":"12","Remark":"hello"}`},
		{"int not a number", "QueryCreditAllocationHistory", "ClientUin=x", "InvalidParameter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			out, e := decodeQuery(tt.action, q)
			got := ""
			if e != nil {
				got = e.Code
			}
			if got != tt.want {
				t.Fatalf("code %q (%v), want %q", got, e, tt.want)
			}
			if tt.norm != "" && !sameJSON(t, out, []byte(tt.norm)) {
				t.Errorf("normalised %s, want %s", out, tt.norm)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// costSummaryBody is a valid DescribeCustomerOwnCostExplorerSummary body with
// extra members appended.
func costSummaryBody(extra string) string {
	body := `{"Dimension":"Default","FeeType":"totalCost","BillType":1,"StartTime":"2025-01-01 00:00:00",` +
		`"EndTime":"2025-01-31 23:59:59","PeriodType":"day","Page":1,"PageSize":10`
	if extra != "" {
		body += "," + extra
	}
	return body + "}"
}

// createAccountBody is a CreateAccount body with the AccountType member given.
func createAccountBody(accountType string) string {
	return `{` + accountType + `,"Mail":"a@example.com","Password":"Bejs%2745!","ConfirmPassword":"Bejs%2745!",` +
		`"PhoneNum":"61234567","CountryCode":"852","Area":"HK","VerifyCode":"123456","TradeOne":"kghy_01","TradeTwo":"kghy_0101"}`
}
