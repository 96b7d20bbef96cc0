package sandbox

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return d
}

// allDetail pages through DescribeCustomerBillDetail and sums TotalCost.
func allDetail(t *testing.T, f *fixture, c Caller, uin uint64, month string, filters map[string]any) (decimal.Decimal, int) {
	t.Helper()
	sum, n := decimal.Zero, 0
	for page := 1; ; page++ {
		req := map[string]any{"CustomerUin": uin, "Month": month, "Page": page, "PageSize": 37}
		for k, v := range filters {
			req[k] = v
		}
		resp := call[partnerapi.DescribeCustomerBillDetailResponse](t, f, c, "DescribeCustomerBillDetail", req)
		for _, d := range resp.DetailSet {
			sum = sum.Add(dec(t, d.TotalCost))
			if !dec(t, d.OriginalCost).Sub(dec(t, d.VoucherDeduction)).Equal(dec(t, d.TotalCost)) {
				t.Errorf("row %s: OriginalCost - VoucherDeduction != TotalCost", d.Id)
			}
		}
		n += len(resp.DetailSet)
		if len(resp.DetailSet) == 0 {
			if int64(n) != resp.Total {
				t.Errorf("paged %d rows, Total says %d", n, resp.Total)
			}
			return sum, n
		}
	}
}

func TestBillSummariesAddUpToDetails(t *testing.T) {
	f := newFixture(t, 11)
	type subject struct {
		partner Caller
		uin     uint64
	}
	subjects := []subject{{f.dist, f.direct[0].Uin}, {f.dist, f.direct[2].Uin}, {f.sub, f.subCust.Uin}}
	// Also a few ordinary customers, which may have quiet months.
	for _, uin := range f.w.distributor.customers[50:53] {
		subjects = append(subjects, subject{f.dist, uin})
	}
	for _, s := range subjects {
		for _, offset := range []int{0, -1, -5, -11} {
			month := f.month(offset)
			t.Run(month, func(t *testing.T) {
				total, rows := allDetail(t, f, s.partner, s.uin, month, nil)
				summary := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, s.partner, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": s.uin, "Month": month})
				if !summary.TotalCost.Decimal().Equal(total) {
					t.Errorf("customer %d %s: summary %s, details %s (%d rows)", s.uin, month, summary.TotalCost, total, rows)
				}
				sumOf := func(items []string) decimal.Decimal {
					d := decimal.Zero
					for _, s := range items {
						d = d.Add(dec(t, s))
					}
					return d
				}
				byProduct := call[partnerapi.DescribeBillSummaryByProductResponse](t, f, s.partner, "DescribeBillSummaryByProduct", map[string]any{"CustomerUin": s.uin, "BillMonth": month})
				var items []string
				for _, it := range byProduct.SummaryOverview {
					items = append(items, it.TotalCost)
				}
				if got := sumOf(items); !got.Equal(total) {
					t.Errorf("by product %s, details %s", got, total)
				}
				byRegion := call[partnerapi.DescribeBillSummaryByRegionResponse](t, f, s.partner, "DescribeBillSummaryByRegion", map[string]any{"CustomerUin": s.uin, "BillMonth": month})
				items = nil
				for _, it := range byRegion.SummaryOverview {
					items = append(items, it.TotalCost)
				}
				if got := sumOf(items); !got.Equal(total) {
					t.Errorf("by region %s, details %s", got, total)
				}
				byMode := call[partnerapi.DescribeBillSummaryByPayModeResponse](t, f, s.partner, "DescribeBillSummaryByPayMode", map[string]any{"CustomerUin": s.uin, "BillMonth": month})
				items = nil
				for _, it := range byMode.SummaryOverview {
					items = append(items, it.TotalCost)
					var actions []string
					for _, a := range it.Detail {
						actions = append(actions, a.TotalCost)
					}
					if !sumOf(actions).Equal(dec(t, it.TotalCost)) {
						t.Errorf("pay mode %s: actions %s, mode %s", it.PayMode, sumOf(actions), it.TotalCost)
					}
					modeTotal, _ := allDetail(t, f, s.partner, s.uin, month, map[string]any{"PayMode": it.PayMode})
					if !modeTotal.Equal(dec(t, it.TotalCost)) {
						t.Errorf("pay mode %s: filtered details %s, summary %s", it.PayMode, modeTotal, it.TotalCost)
					}
				}
				if got := sumOf(items); !got.Equal(total) {
					t.Errorf("by pay mode %s, details %s", got, total)
				}
				// Filters agree between summary and detail, and paid + unpaid = all.
				paid := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, s.partner, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": s.uin, "Month": month, "IsConfirmed": "1"})
				unpaid := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, s.partner, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": s.uin, "Month": month, "IsConfirmed": "2"})
				if !paid.TotalCost.Decimal().Add(unpaid.TotalCost.Decimal()).Equal(total) {
					t.Errorf("paid %s + unpaid %s != %s", paid.TotalCost, unpaid.TotalCost, total)
				}
				unpaidDetail, _ := allDetail(t, f, s.partner, s.uin, month, map[string]any{"IsConfirmed": "2"})
				if !unpaidDetail.Equal(unpaid.TotalCost.Decimal()) {
					t.Errorf("unpaid details %s, summary %s", unpaidDetail, unpaid.TotalCost)
				}
				hourly := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, s.partner, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": s.uin, "Month": month, "ActionType": "postpay_deduct_h"})
				hourlyDetail, _ := allDetail(t, f, s.partner, s.uin, month, map[string]any{"ActionType": "postpay_deduct_h"})
				if !hourlyDetail.Equal(hourly.TotalCost.Decimal()) {
					t.Errorf("hourly details %s, summary %s", hourlyDetail, hourly.TotalCost)
				}
				// Days add up to the month, for months daily bills cover.
				m, _ := parseMonth(month)
				if monthStart(m).Before(earliestDailyBill) {
					return
				}
				days := decimal.Zero
				for d := monthStart(m); monthIndex(d) == m && !d.After(f.clock.t); d = d.AddDate(0, 0, 1) {
					resp := call[partnerapi.DescribeCustomerBillDetailByDayResponse](t, f, s.partner, "DescribeCustomerBillDetailByDay", map[string]any{"CustomerUin": s.uin, "Date": d.Format(apiDateLayout)})
					days = days.Add(dec(t, resp.TotalCost))
				}
				if !days.Equal(total) {
					t.Errorf("days add up to %s, month is %s", days, total)
				}
			})
		}
	}
}

func TestCustomerBillsWithCredentials(t *testing.T) {
	f := newFixture(t, 12)
	for _, c := range f.custs {
		cu := f.w.customers[c.Uin]
		month := f.month(-1)
		detail := call[partnerapi.DescribeBillDetailResponse](t, f, c, "DescribeBillDetail", map[string]any{"Month": month, "Page": 1, "PageSize": 200})
		if detail.Total == 0 || detail.Total < 10 {
			t.Errorf("customer %d: %d rows last month", c.Uin, detail.Total)
		}
		total := decimal.Zero
		for _, d := range detail.DetailSet {
			total = total.Add(dec(t, d.TotalCost))
		}
		partnerView := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, Caller{Role: f.w.partners[cu.owner].role, Uin: cu.owner}, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": c.Uin, "Month": month})
		if !partnerView.TotalCost.Decimal().Equal(total) {
			t.Errorf("customer %d: own details %s, partner summary %s", c.Uin, total, partnerView.TotalCost)
		}
		if total.LessThan(decimal.NewFromInt(1)) || total.GreaterThan(decimal.NewFromInt(10000)) {
			t.Errorf("customer %d: implausible monthly total %s", c.Uin, total)
		}
		for _, group := range []string{"product", "project", "tag"} {
			s := call[partnerapi.DescribeBillSummaryResponse](t, f, c, "DescribeBillSummary", map[string]any{"Month": month, "GroupType": group, "TagKey": []string{"env"}})
			sum := decimal.Zero
			for _, d := range s.SummaryDetail {
				sum = sum.Add(dec(t, d.TotalCost))
				if len(d.Business) > 0 {
					b := decimal.Zero
					for _, x := range d.Business {
						b = b.Add(dec(t, x.TotalCost))
					}
					if !b.Equal(dec(t, d.TotalCost)) {
						t.Errorf("%s %s=%s: products %s, group %s", group, d.GroupKey, d.GroupValue, b, d.TotalCost)
					}
				}
			}
			if !sum.Equal(total) {
				t.Errorf("customer %d: DescribeBillSummary by %s = %s, details %s", c.Uin, group, sum, total)
			}
		}
		// The cost explorer over the month agrees, by any dimension and period.
		for _, dim := range []string{"Default", "Business", "Region", "PayMode", "OwnerUin"} {
			for _, period := range []string{"day", "month"} {
				m, _ := parseMonth(month)
				end := monthStart(m + 1).Add(-time.Second)
				s := call[partnerapi.DescribeCustomerOwnCostExplorerSummaryResponse](t, f, c, "DescribeCustomerOwnCostExplorerSummary", map[string]any{
					"Dimension": dim, "FeeType": "totalCost", "BillType": 1, "PeriodType": period, "Page": 1, "PageSize": 200,
					"StartTime": month + "-01 00:00:00", "EndTime": end.Format(apiTimeLayout),
				})
				if !dec(t, s.TotalDetail.SumCost).Equal(total) {
					t.Errorf("explorer %s/%s total %s, details %s", dim, period, s.TotalDetail.SumCost, total)
				}
				sum := decimal.Zero
				for _, d := range s.Detail {
					sum = sum.Add(dec(t, d.SumCost))
				}
				if !sum.Equal(total) {
					t.Errorf("explorer %s/%s groups %s, details %s", dim, period, sum, total)
				}
			}
		}
	}
}

func TestBillFilesMatchBills(t *testing.T) {
	f := newFixture(t, 13)
	c := f.direct[0]
	month := f.month(-2)
	resp := call[partnerapi.DescribeBillDownloadUrlResponse](t, f, c, "DescribeBillDownloadUrl", map[string]any{"Month": month, "FileType": "L3"})
	name := resp.DownloadUrl[strings.LastIndex(resp.DownloadUrl, "/")+1:]
	if resp.Ready != 1 || !strings.HasPrefix(resp.DownloadUrl, "http://sandbox.test/sandbox/files/") {
		t.Fatalf("download answer %+v", resp)
	}
	data, ctype, ok := f.w.File(name)
	if !ok || !strings.HasPrefix(ctype, "text/csv") {
		t.Fatalf("File(%s) = %v, %q", name, ok, ctype)
	}
	records, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := len(detailHeader) - 2 // TotalCost
	sum := decimal.Zero
	for _, r := range records[1:] {
		sum = sum.Add(dec(t, r[col]))
	}
	summary := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, f.dist, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": c.Uin, "Month": month})
	if !sum.Equal(summary.TotalCost.Decimal()) {
		t.Errorf("file total %s, summary %s", sum, summary.TotalCost)
	}

	// The commission file is built on the first request and ready on the next.
	rebate := call[partnerapi.DescribeRebateDownloadUrlResponse](t, f, f.dist, "DescribeRebateDownloadUrl", map[string]any{"Month": month, "FileType": "CommissionDetail"})
	if rebate.Ready != 0 || rebate.DownloadUrl != "" {
		t.Fatalf("first commission answer %+v, want Ready 0 without a link", rebate)
	}
	rebate = call[partnerapi.DescribeRebateDownloadUrlResponse](t, f, f.dist, "DescribeRebateDownloadUrl", map[string]any{"Month": month, "FileType": "CommissionDetail"})
	if rebate.Ready != 1 {
		t.Fatalf("second commission answer %+v, want Ready 1", rebate)
	}
	data, _, ok = f.w.File(rebate.DownloadUrl[strings.LastIndex(rebate.DownloadUrl, "/")+1:])
	if !ok || !strings.Contains(string(data), "Commission") {
		t.Fatalf("commission file missing or empty: %q", data)
	}
	if _, _, ok := f.w.File("nothing.csv"); ok {
		t.Error("File served a name that was never offered")
	}
}

func TestBillMonthRules(t *testing.T) {
	f := newFixture(t, 14)
	uin := f.direct[0].Uin
	bound := monthIndex(f.w.customers[uin].bindTime)
	emptyMonths := []struct {
		name, month string
	}{
		{"future month", f.month(1)},
		{"far future month", "2099-01"},
		{"before June 2022", "2022-05"},
		{"before binding", monthString(bound - 1)},
	}
	for _, tc := range emptyMonths {
		t.Run(tc.name, func(t *testing.T) {
			sum := call[partnerapi.DescribeCustomerBillSummaryResponse](t, f, f.dist, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": uin, "Month": tc.month})
			detail := call[partnerapi.DescribeCustomerBillDetailResponse](t, f, f.dist, "DescribeCustomerBillDetail", map[string]any{"CustomerUin": uin, "Month": tc.month, "Page": 1, "PageSize": 10})
			if !sum.TotalCost.IsZero() || detail.Total != 0 || detail.DetailSet == nil {
				t.Errorf("%s: summary %s, details %+v; want an empty month", tc.month, sum.TotalCost, detail)
			}
		})
	}
	if code := callCode(t, f, f.dist, "DescribeCustomerBillSummary", map[string]any{"CustomerUin": uin, "Month": "2025-13"}); code != "InvalidParameterValue.InvalidMonth" {
		t.Errorf("month 13: %s", code)
	}
	// Long history: every month from the first full month after binding
	// (June 2022 at the earliest) has bills.
	for m := max(earliestBillMonth, bound+1); m < monthIndex(f.clock.t); m++ {
		if d := call[partnerapi.DescribeCustomerBillDetailResponse](t, f, f.dist, "DescribeCustomerBillDetail", map[string]any{"CustomerUin": uin, "Month": monthString(m), "Page": 1, "PageSize": 1}); d.Total == 0 {
			t.Errorf("no bill in %s for a customer bound %s", monthString(m), apiTime(f.w.customers[uin].bindTime))
		}
	}
	days := []struct {
		name, date, code, total string
	}{
		{"first day daily bills cover", "2025-06-01", "", ""},
		{"the day before", "2025-05-31", "InvalidParameterValue", ""},
		{"tomorrow", f.clock.t.In(apiZone).AddDate(0, 0, 1).Format(apiDateLayout), "", "0.00000000"},
		{"not a date", "2025-6-1", "InvalidParameterValue", ""},
	}
	for _, tc := range days {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]any{"CustomerUin": uin, "Date": tc.date}
			if tc.code != "" {
				if code := callCode(t, f, f.dist, "DescribeCustomerBillDetailByDay", req); code != tc.code {
					t.Errorf("%s: code %q, want %q", tc.date, code, tc.code)
				}
				return
			}
			resp := call[partnerapi.DescribeCustomerBillDetailByDayResponse](t, f, f.dist, "DescribeCustomerBillDetailByDay", req)
			if tc.total != "" && resp.TotalCost != tc.total {
				t.Errorf("%s: TotalCost %s, want %s", tc.date, resp.TotalCost, tc.total)
			}
		})
	}
	past := call[partnerapi.DescribeCustomerBillDetailResponse](t, f, f.dist, "DescribeCustomerBillDetail", map[string]any{"CustomerUin": uin, "Month": f.month(-1), "Page": 1000, "PageSize": 10})
	if past.Total == 0 || len(past.DetailSet) != 0 {
		t.Errorf("a page past the end: Total %d, %d rows", past.Total, len(past.DetailSet))
	}
	// The current month grows as the clock moves.
	before := call[partnerapi.DescribeCustomerBillDetailResponse](t, f, f.dist, "DescribeCustomerBillDetail", map[string]any{"CustomerUin": uin, "Month": f.month(0), "Page": 1, "PageSize": 1})
	f.clock.Advance(5 * day)
	after := call[partnerapi.DescribeCustomerBillDetailResponse](t, f, f.dist, "DescribeCustomerBillDetail", map[string]any{"CustomerUin": uin, "Month": f.month(0), "Page": 1, "PageSize": 1})
	if after.Total <= before.Total {
		t.Errorf("current month rows did not grow with time: %d then %d", before.Total, after.Total)
	}
}
