package sandbox

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Bills: details, summaries and daily totals, for partners about their
// customers and for customers about themselves. Every answer is computed
// from the same rows, so summaries add up exactly to the details.

// money formats a bill amount with 8 decimals.
func money(d decimal.Decimal) string { return d.StringFixed(8) }

// billMonth parses a bill month. A month in the future is not an error (the
// documentation names none for it): it is a month without bills, as is any
// month before June 2022 or before the customer was bound.
func (w *World) billMonth(s string) (int, error) {
	m, ok := parseMonth(s)
	if !ok {
		return 0, errorf("InvalidParameterValue.InvalidMonth", "The month %q is not in YYYY-MM format.", s)
	}
	return m, nil
}

// earliestDailyBill is the first date DescribeCustomerBillDetailByDay
// answers for: "Historical daily bill dated before 2025-06-01 cannot be
// queried."
var earliestDailyBill = time.Date(2025, 6, 1, 0, 0, 0, 0, apiZone)

// rowFilter is the documented PayMode, ActionType and IsConfirmed filters.
type rowFilter struct {
	payMode, actionType, isConfirmed string
}

func newRowFilter(payMode, actionType, isConfirmed string) (rowFilter, error) {
	switch payMode {
	case "", "prePay", "postPay":
	default:
		return rowFilter{}, errorf("InvalidParameterValue", "PayMode must be prePay or postPay, got %q.", payMode)
	}
	switch isConfirmed {
	case "", "0", "1", "2":
	default:
		return rowFilter{}, errorf("InvalidParameterValue", "IsConfirmed must be 0, 1 or 2, got %q.", isConfirmed)
	}
	return rowFilter{payMode, actionType, isConfirmed}, nil
}

func (f rowFilter) match(row billRow, now time.Time) bool {
	if f.payMode != "" && row.payMode != f.payMode {
		return false
	}
	if f.actionType != "" && row.action.code != f.actionType {
		return false
	}
	switch f.isConfirmed {
	case "1":
		return row.confirmed(now)
	case "2":
		return !row.confirmed(now)
	}
	return true
}

// filteredRows returns the visible rows of a month that pass the filter.
func (w *World) filteredRows(cu *customer, m int, f rowFilter, now time.Time) []billRow {
	rows := w.visibleRows(cu, m, now)
	out := rows[:0:0]
	for _, row := range rows {
		if f.match(row, now) {
			out = append(out, row)
		}
	}
	return out
}

// costs is the three amounts every summary carries.
type costs struct{ original, voucher, total decimal.Decimal }

func (c *costs) add(row billRow) {
	c.original = c.original.Add(row.original)
	c.voucher = c.voucher.Add(row.voucher)
	c.total = c.total.Add(row.total)
}

// group sums rows by a key, keeping the keys in sorted order.
type group[K cmp.Ordered] struct {
	key   K
	name  string
	costs costs
	rows  []billRow
}

func groupRows[K cmp.Ordered](rows []billRow, key func(billRow) (K, string)) []*group[K] {
	byKey := map[K]*group[K]{}
	for _, row := range rows {
		k, name := key(row)
		g, ok := byKey[k]
		if !ok {
			g = &group[K]{key: k, name: name}
			byKey[k] = g
		}
		g.costs.add(row)
		g.rows = append(g.rows, row)
	}
	out := make([]*group[K], 0, len(byKey))
	for _, g := range byKey {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group[K]) int { return cmp.Compare(a.key, b.key) })
	return out
}

// partnerMonth resolves the customer and month of a partner's summary call.
func (w *World) partnerMonth(c Caller, uin int64, month string) (*customer, []billRow, error) {
	cu, err := w.ownCustomerSigned(c, uin)
	if err != nil {
		return nil, nil, err
	}
	now := w.clock()
	m, err := w.billMonth(month)
	if err != nil {
		return nil, nil, err
	}
	return cu, w.visibleRows(cu, m, now), nil
}

func describeBillSummaryByProduct(w *World, c Caller, req *partnerapi.DescribeBillSummaryByProductRequest) (*partnerapi.DescribeBillSummaryByProductResponse, error) {
	_, rows, err := w.partnerMonth(c, req.CustomerUin, req.BillMonth)
	if err != nil {
		return nil, err
	}
	groups := groupRows(rows, func(r billRow) (string, string) { return r.product.code, r.product.name })
	out := make([]partnerapi.BusinessSummaryOverviewItem, 0, len(groups))
	for _, g := range groups {
		out = append(out, partnerapi.BusinessSummaryOverviewItem{
			BusinessCode: g.key, BusinessCodeName: g.name,
			OriginalCost: money(g.costs.original), VoucherPayAmount: money(g.costs.voucher), TotalCost: money(g.costs.total),
		})
	}
	return &partnerapi.DescribeBillSummaryByProductResponse{SummaryOverview: out}, nil
}

func describeBillSummaryByRegion(w *World, c Caller, req *partnerapi.DescribeBillSummaryByRegionRequest) (*partnerapi.DescribeBillSummaryByRegionResponse, error) {
	_, rows, err := w.partnerMonth(c, req.CustomerUin, req.BillMonth)
	if err != nil {
		return nil, err
	}
	groups := groupRows(rows, func(r billRow) (string, string) { return r.region.id, r.region.name })
	out := make([]partnerapi.RegionSummaryOverviewItem, 0, len(groups))
	for _, g := range groups {
		out = append(out, partnerapi.RegionSummaryOverviewItem{
			RegionId: g.key, RegionName: g.name,
			OriginalCost: money(g.costs.original), VoucherPayAmount: money(g.costs.voucher), TotalCost: money(g.costs.total),
		})
	}
	return &partnerapi.DescribeBillSummaryByRegionResponse{SummaryOverview: out}, nil
}

func describeBillSummaryByPayMode(w *World, c Caller, req *partnerapi.DescribeBillSummaryByPayModeRequest) (*partnerapi.DescribeBillSummaryByPayModeResponse, error) {
	_, rows, err := w.partnerMonth(c, req.CustomerUin, req.BillMonth)
	if err != nil {
		return nil, err
	}
	groups := groupRows(rows, func(r billRow) (string, string) { return r.payMode, payModeName(r.payMode) })
	out := make([]partnerapi.PayModeSummaryOverviewItem, 0, len(groups))
	for _, g := range groups {
		actions := groupRows(g.rows, func(r billRow) (string, string) { return r.action.code, r.action.name })
		detail := make([]partnerapi.ActionSummaryOverviewItem, 0, len(actions))
		for _, a := range actions {
			detail = append(detail, partnerapi.ActionSummaryOverviewItem{
				ActionType: a.key, ActionTypeName: a.name,
				OriginalCost: money(a.costs.original), VoucherPayAmount: money(a.costs.voucher), TotalCost: money(a.costs.total),
			})
		}
		out = append(out, partnerapi.PayModeSummaryOverviewItem{
			PayMode: g.key, PayModeName: g.name, Detail: detail,
			OriginalCost: money(g.costs.original), VoucherPayAmount: money(g.costs.voucher), TotalCost: money(g.costs.total),
		})
	}
	return &partnerapi.DescribeBillSummaryByPayModeResponse{SummaryOverview: out}, nil
}

func describeCustomerBillSummary(w *World, c Caller, req *partnerapi.DescribeCustomerBillSummaryRequest) (*partnerapi.DescribeCustomerBillSummaryResponse, error) {
	cu, err := w.ownCustomer(c, req.CustomerUin)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	m, err := w.billMonth(req.Month)
	if err != nil {
		return nil, err
	}
	f, err := newRowFilter(req.PayMode, req.ActionType, req.IsConfirmed)
	if err != nil {
		return nil, err
	}
	var sum costs
	for _, row := range w.filteredRows(cu, m, f, now) {
		sum.add(row)
	}
	return &partnerapi.DescribeCustomerBillSummaryResponse{TotalCost: amount(sum.total)}, nil
}

func describeCustomerBillDetail(w *World, c Caller, req *partnerapi.DescribeCustomerBillDetailRequest) (*partnerapi.DescribeCustomerBillDetailResponse, error) {
	cu, err := w.ownCustomer(c, req.CustomerUin)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	m, err := w.billMonth(req.Month)
	if err != nil {
		return nil, err
	}
	f, err := newRowFilter(req.PayMode, req.ActionType, req.IsConfirmed)
	if err != nil {
		return nil, err
	}
	rows := w.filteredRows(cu, m, f, now)
	lo, hi := pageRange(len(rows), req.Page, req.PageSize, 20)
	out := make([]partnerapi.BillDetailData, 0, hi-lo)
	for _, row := range rows[lo:hi] {
		out = append(out, partnerBillDetail(cu, row))
	}
	return &partnerapi.DescribeCustomerBillDetailResponse{Total: int64(len(rows)), DetailSet: out}, nil
}

func partnerBillDetail(cu *customer, row billRow) partnerapi.BillDetailData {
	return partnerapi.BillDetailData{
		PayerAccountId:                int64(cu.owner),
		OwnerAccountId:                int64(cu.uin),
		OperatorAccountId:             int64(cu.uin),
		ProductName:                   row.product.name,
		BillingMode:                   payModeName(row.payMode),
		ProjectName:                   row.project.name,
		Region:                        row.region.name,
		AvailabilityZone:              row.zone.name,
		InstanceId:                    row.instanceID,
		InstanceName:                  row.instanceName,
		SubProductName:                row.sub.name,
		TransactionType:               row.action.name,
		TransactionId:                 row.txID,
		TransactionTime:               apiTime(row.at),
		UsageStartTime:                apiTime(row.start),
		UsageEndTime:                  apiTime(row.end),
		ComponentType:                 row.comp.typeName,
		ComponentName:                 row.comp.name,
		ComponentListPrice:            row.listPrice,
		ComponentPriceMeasurementUnit: row.comp.priceUnit,
		ComponentUsage:                row.usage,
		ComponentUsageUnit:            row.comp.usageUnit,
		UsageDuration:                 row.duration,
		DurationUnit:                  row.comp.durationUnit,
		OriginalCost:                  money(row.original),
		DiscountRate:                  "1",
		Currency:                      "USD",
		TotalAmountAfterDiscount:      money(row.original),
		VoucherDeduction:              money(row.voucher),
		TotalCost:                     money(row.total),
		Id:                            row.id,
		CustomerDiscountRate:          "1",
	}
}

func describeCustomerBillDetailByDay(w *World, c Caller, req *partnerapi.DescribeCustomerBillDetailByDayRequest) (*partnerapi.DescribeCustomerBillDetailByDayResponse, error) {
	cu, err := w.ownCustomerSigned(c, req.CustomerUin)
	if err != nil {
		return nil, err
	}
	date, err := time.ParseInLocation(apiDateLayout, req.Date, apiZone)
	if err != nil {
		return nil, errorf("InvalidParameterValue", "Date %q is not in YYYY-MM-DD format.", req.Date)
	}
	if date.Before(earliestDailyBill) {
		return nil, errorf("InvalidParameterValue", "Daily bills dated before 2025-06-01 cannot be queried, not %s.", req.Date)
	}
	now := w.clock()
	sum := decimal.Zero // a day in the future has no bill yet
	for _, row := range w.visibleRows(cu, monthIndex(date), now) {
		if row.at.Format(apiDateLayout) == req.Date {
			sum = sum.Add(row.total)
		}
	}
	return &partnerapi.DescribeCustomerBillDetailByDayResponse{TotalCost: money(sum)}, nil
}

// --- the customer's own bills ---

func describeBillDetail(w *World, c Caller, req *partnerapi.DescribeBillDetailRequest) (*partnerapi.DescribeBillDetailResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	m, err := w.billMonth(req.Month)
	if err != nil {
		return nil, err
	}
	f, err := newRowFilter(req.PayMode, req.ActionType, "")
	if err != nil {
		return nil, err
	}
	rows := w.filteredRows(cu, m, f, now)
	lo, hi := pageRange(len(rows), req.Page, req.PageSize, 20)
	out := make([]partnerapi.CustomerBillDetailData, 0, hi-lo)
	for _, row := range rows[lo:hi] {
		d := partnerBillDetail(cu, row)
		tags := slices.Clone(row.tags)
		if tags == nil {
			tags = []partnerapi.TagInfo{}
		}
		out = append(out, partnerapi.CustomerBillDetailData{
			PayerAccountId: d.PayerAccountId, OwnerAccountId: d.OwnerAccountId, OperatorAccountId: d.OperatorAccountId,
			ProductName: d.ProductName, BillingMode: d.BillingMode, ProjectName: d.ProjectName, Region: d.Region,
			AvailabilityZone: d.AvailabilityZone, InstanceId: d.InstanceId, InstanceName: d.InstanceName,
			SubProductName: d.SubProductName, TransactionType: d.TransactionType, TransactionId: d.TransactionId,
			TransactionTime: d.TransactionTime, UsageStartTime: d.UsageStartTime, UsageEndTime: d.UsageEndTime,
			ComponentType: d.ComponentType, ComponentName: d.ComponentName, ComponentListPrice: d.ComponentListPrice,
			ComponentPriceMeasurementUnit: d.ComponentPriceMeasurementUnit, ComponentUsage: d.ComponentUsage,
			ComponentUsageUnit: d.ComponentUsageUnit, UsageDuration: d.UsageDuration, DurationUnit: d.DurationUnit,
			OriginalCost: d.OriginalCost, Currency: d.Currency, TotalCost: d.TotalCost, Id: d.Id, Tags: tags,
		})
	}
	return &partnerapi.DescribeBillDetailResponse{DetailSet: out, Total: int64(len(rows))}, nil
}

const untagged = "untagged"

func describeBillSummary(w *World, c Caller, req *partnerapi.DescribeBillSummaryRequest) (*partnerapi.DescribeBillSummaryResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	m, err := w.billMonth(req.Month)
	if err != nil {
		return nil, err
	}
	rows := w.visibleRows(cu, m, now)
	out := []partnerapi.SummaryDetails{}
	switch req.GroupType {
	case "product":
		for _, g := range groupRows(rows, func(r billRow) (string, string) { return r.product.code, r.product.name }) {
			out = append(out, summaryDetail(g.key, g.name, g.costs, []partnerapi.BusinessInfo{}))
		}
	case "project":
		for _, g := range groupRows(rows, func(r billRow) (string, string) { return r.project.id, r.project.name }) {
			out = append(out, summaryDetail(g.key, g.name, g.costs, businessBreakdown(g.rows)))
		}
	case "tag":
		keys := req.TagKey
		if len(keys) == 0 {
			for _, k := range tagKeys {
				keys = append(keys, k.key)
			}
		}
		for _, key := range keys {
			groups := groupRows(rows, func(r billRow) (string, string) {
				v := tagValue(r, key)
				return v, v
			})
			for _, g := range groups {
				out = append(out, summaryDetail(key, g.key, g.costs, businessBreakdown(g.rows)))
			}
		}
	default:
		return nil, errorf("InvalidParameterValue", "GroupType must be product, project or tag, got %q.", req.GroupType)
	}
	return &partnerapi.DescribeBillSummaryResponse{SummaryDetail: out}, nil
}

// tagValue is a row's value of a tag key, or "untagged".
func tagValue(r billRow, key string) string {
	for _, t := range r.tags {
		if t.TagKey == key {
			return t.TagValue
		}
	}
	return untagged
}

func summaryDetail(key, value string, c costs, business []partnerapi.BusinessInfo) partnerapi.SummaryDetails {
	return partnerapi.SummaryDetails{
		Business: business, OriginalCost: money(c.original), VoucherPayAmount: money(c.voucher),
		RICost: money(decimal.Zero), TotalCost: money(c.total), GroupKey: key, GroupValue: value,
	}
}

func businessBreakdown(rows []billRow) []partnerapi.BusinessInfo {
	groups := groupRows(rows, func(r billRow) (string, string) { return r.product.code, r.product.name })
	out := make([]partnerapi.BusinessInfo, 0, len(groups))
	for _, g := range groups {
		out = append(out, partnerapi.BusinessInfo{
			BusinessCodeName: g.name, BusinessCode: g.key, OriginalCost: money(g.costs.original),
			VoucherPayAmount: money(g.costs.voucher), RICost: money(decimal.Zero), TotalCost: money(g.costs.total),
		})
	}
	return out
}

// --- cost explorer ---

// explorerRange parses and checks a cost explorer time range.
func explorerRange(start, end, period string) (time.Time, time.Time, error) {
	s, err1 := time.ParseInLocation(apiTimeLayout, start, apiZone)
	e, err2 := time.ParseInLocation(apiTimeLayout, end, apiZone)
	if err1 != nil || err2 != nil {
		return s, e, errorf("InvalidParameterValue", "StartTime and EndTime must be in YYYY-MM-DD hh:mm:ss format.")
	}
	if e.Before(s) {
		return s, e, errorf("InvalidParameterValue", "EndTime %s is before StartTime %s.", end, start)
	}
	months := monthIndex(e) - monthIndex(s) + 1
	switch period {
	case "month":
		if months > 6 {
			return s, e, errorf("InvalidParameterValue", "With PeriodType month the range may span at most 6 calendar months.")
		}
	case "day":
		if months > 2 {
			return s, e, errorf("InvalidParameterValue", "With PeriodType day the range may span at most 2 calendar months.")
		}
	default:
		return s, e, errorf("InvalidParameterValue", "PeriodType must be day or month, got %q.", period)
	}
	return s, e, nil
}

// rangeRows returns a customer's visible rows between two times.
func (w *World) rangeRows(cu *customer, start, end, now time.Time) []billRow {
	var out []billRow
	for m := monthIndex(start); m <= monthIndex(end); m++ {
		for _, row := range w.visibleRows(cu, m, now) {
			if !row.at.Before(start) && !row.at.After(end) {
				out = append(out, row)
			}
		}
	}
	return out
}

// dimension returns a row's code and name in a cost explorer dimension.
func (w *World) dimension(cu *customer, row billRow, dim, tagKey string) (string, string) {
	switch dim {
	case "Business":
		return row.product.code, row.product.name
	case "Product":
		return row.sub.code, row.sub.name
	case "Region":
		return row.region.id, row.region.name
	case "Zone":
		return row.zone.id, row.zone.name
	case "ActionType":
		return row.action.code, row.action.name
	case "PayMode":
		return row.payMode, payModeName(row.payMode)
	case "Project":
		return row.project.id, row.project.name
	case "PayerUin":
		p := w.partners[cu.owner]
		return strconv.FormatUint(cu.owner, 10), p.name + " (" + strconv.FormatUint(cu.owner, 10) + ")"
	case "OwnerUin":
		return strconv.FormatUint(cu.uin, 10), cu.name + " (" + strconv.FormatUint(cu.uin, 10) + ")"
	case "Tag":
		v := tagValue(row, tagKey)
		if v == untagged {
			return "", untagged
		}
		return v, v
	}
	return "", "default"
}

var explorerDimensions = []string{"Default", "Business", "Product", "Region", "Zone", "ActionType", "PayMode", "Project", "PayerUin", "OwnerUin", "Tag"}

// matchExplorerFilter applies a CostAnalyzeFilter to a row.
func (w *World) matchExplorerFilter(cu *customer, row billRow, f *partnerapi.CostAnalyzeFilter) bool {
	if f == nil {
		return true
	}
	in := func(list []string, vals ...string) bool {
		if len(list) == 0 {
			return true
		}
		for _, v := range vals {
			if slices.Contains(list, v) {
				return true
			}
		}
		return false
	}
	uin, owner := strconv.FormatUint(cu.uin, 10), strconv.FormatUint(cu.owner, 10)
	ok := in(f.BusinessIn, row.product.code) && in(f.ProductIn, row.sub.code) &&
		in(f.RegionIn, row.region.id, row.region.code) && in(f.ActionTypeIn, row.action.code) &&
		in(f.PayModeIn, row.payMode) && in(f.ProjectIn, row.project.id, row.project.name) &&
		in(f.PayerUinIn, owner) && in(f.ZoneIn, row.zone.id) && in(f.OwnerUinIn, uin) &&
		in(f.ComponentIn, row.comp.typeCode) && in(f.ItemIn, row.comp.code, row.sub.code) &&
		in(f.ResourceIn, row.instanceID)
	if ok && f.TagKey != "" && len(f.TagIn) > 0 {
		ok = slices.Contains(f.TagIn, tagValue(row, f.TagKey))
	}
	return ok
}

func describeCustomerOwnCostExplorerSummary(w *World, c Caller, req *partnerapi.DescribeCustomerOwnCostExplorerSummaryRequest) (*partnerapi.DescribeCustomerOwnCostExplorerSummaryResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(explorerDimensions, req.Dimension) {
		return nil, errorf("InvalidParameterValue.InvalidDimension", "Dimension %q is not one of %v.", req.Dimension, explorerDimensions)
	}
	if req.Dimension == "Tag" && req.TagKey == "" {
		return nil, errorf("MissingParameter", "TagKey is required when Dimension is Tag.")
	}
	if req.FeeType != "originalCost" && req.FeeType != "totalCost" {
		return nil, errorf("InvalidParameterValue", "FeeType must be originalCost or totalCost, got %q.", req.FeeType)
	}
	if req.BillType != 1 {
		return nil, errorf("InvalidParameterValue", "BillType must be 1 (billing statement), got %d.", req.BillType)
	}
	start, end, err := explorerRange(req.StartTime, req.EndTime, req.PeriodType)
	if err != nil {
		return nil, err
	}
	layout := apiDateLayout
	if req.PeriodType == "month" {
		layout = "2006-01"
	}
	type bucket struct {
		code, name string
		sum        decimal.Decimal
		periods    map[string]decimal.Decimal
	}
	buckets := map[string]*bucket{}
	total := &bucket{periods: map[string]decimal.Decimal{}}
	for _, row := range w.rangeRows(cu, start, end, w.clock()) {
		if !w.matchExplorerFilter(cu, row, req.Filter) {
			continue
		}
		cost := row.original
		if req.FeeType == "totalCost" {
			cost = row.total
		}
		code, name := w.dimension(cu, row, req.Dimension, req.TagKey)
		b, ok := buckets[code]
		if !ok {
			b = &bucket{code: code, name: name, periods: map[string]decimal.Decimal{}}
			buckets[code] = b
		}
		period := row.at.Format(layout)
		b.sum = b.sum.Add(cost)
		b.periods[period] = b.periods[period].Add(cost)
		total.sum = total.sum.Add(cost)
		total.periods[period] = total.periods[period].Add(cost)
	}
	periodList := func(m map[string]decimal.Decimal) []partnerapi.PeriodItemDetail {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]partnerapi.PeriodItemDetail, 0, len(keys))
		for _, k := range keys {
			out = append(out, partnerapi.PeriodItemDetail{Period: k, Cost: money(m[k])})
		}
		return out
	}
	list := make([]*bucket, 0, len(buckets))
	for _, b := range buckets {
		list = append(list, b)
	}
	slices.SortFunc(list, func(a, b *bucket) int {
		if c := b.sum.Cmp(a.sum); c != 0 {
			return c
		}
		return cmp.Compare(a.code, b.code)
	})
	lo, hi := pageRange(len(list), req.Page, req.PageSize, 10)
	detail := make([]partnerapi.DimensionPeriodData, 0, hi-lo)
	for _, b := range list[lo:hi] {
		detail = append(detail, partnerapi.DimensionPeriodData{Name: b.name, Code: b.code, SumCost: money(b.sum), ItemDetail: periodList(b.periods)})
	}
	return &partnerapi.DescribeCustomerOwnCostExplorerSummaryResponse{
		DimensionName: req.Dimension,
		Detail:        detail,
		TotalDetail: &partnerapi.CostAnalyzeDimensionData{
			TotalCount: int64(len(list)), SumCost: money(total.sum), PeriodItemDetail: periodList(total.periods),
		},
	}, nil
}

func describeCustomerOwnCostExplorerFilter(w *World, c Caller, req *partnerapi.DescribeCustomerOwnCostExplorerFilterRequest) (*partnerapi.DescribeCustomerOwnCostExplorerFilterResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	start, end, err := explorerRange(req.StartTime, req.EndTime, req.PeriodType)
	if err != nil {
		return nil, err
	}
	rows := w.rangeRows(cu, start, end, w.clock())
	options := func(dim string) []partnerapi.BillQueryFilterMsg {
		seen := map[string]string{}
		for _, row := range rows {
			k, v := w.dimension(cu, row, dim, "")
			seen[k] = v
		}
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]partnerapi.BillQueryFilterMsg, 0, len(keys))
		for _, k := range keys {
			out = append(out, partnerapi.BillQueryFilterMsg{Key: k, Value: seen[k]})
		}
		return out
	}
	return &partnerapi.DescribeCustomerOwnCostExplorerFilterResponse{Data: &partnerapi.CostAnalyzeFilterDetail{
		Business:   options("Business"),
		Region:     options("Region"),
		Zone:       options("Zone"),
		ActionType: options("ActionType"),
		PayMode:    options("PayMode"),
		Project:    options("Project"),
		PayerUin:   options("PayerUin"),
		OwnerUin:   options("OwnerUin"),
	}}, nil
}
