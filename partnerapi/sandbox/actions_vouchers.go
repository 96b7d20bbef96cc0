package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Vouchers: lists, usage records that add up to what was used, amounts by
// customer and the partners' voucher pools.

// voucherUse is one usage record of a voucher.
type voucherUse struct {
	id      int64
	deal    string
	amount  decimal.Decimal
	payMode string
	product *productSpec
	sub     subProductSpec
	paid    time.Time
}

// voucherUses derives a voucher's usage records: they add up exactly to
// TotalAmount - RemainAmount.
func (w *World) voucherUses(v *voucher) []voucherUse {
	usedCents := v.total.Sub(v.remain).Shift(2).IntPart()
	if usedCents <= 0 {
		return nil
	}
	r := newRand(w.seed, uint64(v.id), streamVoucherUse)
	k := 1 + r.IntN(int(min(8, usedCents)))
	cuts := []int64{0, usedCents}
	for range k - 1 {
		cuts = append(cuts, 1+r.Int64N(usedCents-1))
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	from := v.effective
	until := v.expire
	if w.genNow.Before(until) {
		until = w.genNow
	}
	span := int64(until.Sub(from) / time.Second)
	if span < 3600 {
		span = 3600
	}
	uses := make([]voucherUse, 0, len(cuts)-1)
	for i := 1; i < len(cuts); i++ {
		p := &products[r.IntN(len(products))]
		mode := v.paymentMode
		if mode == "AllPayment" {
			mode = []string{"Prepaid", "Postpaid"}[r.IntN(2)]
		}
		paid := from.Add(time.Duration(r.Int64N(span)) * time.Second)
		uses = append(uses, voucherUse{
			amount:  decimal.New(cuts[i]-cuts[i-1], -2),
			payMode: mode,
			product: p,
			sub:     p.subs[r.IntN(len(p.subs))],
			paid:    paid,
			deal:    paid.In(apiZone).Format("20060102") + fmt.Sprintf("%015d", r.Int64N(1e15)),
		})
	}
	slices.SortStableFunc(uses, func(a, b voucherUse) int { return a.paid.Compare(b.paid) })
	for i := range uses {
		uses[i].id = v.id*100 + int64(i) + 1
	}
	return uses
}

// voucherFilter is the documented list filters.
type voucherFilter struct {
	status, paymentMode, usage, scope string
	id                                int64
}

func (f voucherFilter) match(v *voucher) bool {
	return (f.status == "" || v.status == f.status) && (f.paymentMode == "" || v.paymentMode == f.paymentMode) &&
		(f.usage == "" || v.usage == f.usage) && (f.scope == "" || v.scope == f.scope) && (f.id == 0 || v.id == f.id)
}

func (w *World) matchingVouchers(uins []uint64, f voucherFilter) []*voucher {
	var out []*voucher
	for _, uin := range uins {
		for _, v := range w.customers[uin].vouchers {
			if f.match(v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func describeCustomerVoucherList(w *World, c Caller, req *partnerapi.DescribeCustomerVoucherListRequest) (*partnerapi.DescribeCustomerVoucherListResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	uins := p.customers
	if req.CustomerUin != 0 {
		cu, err := w.ownCustomerSigned(c, req.CustomerUin)
		if err != nil {
			return nil, err
		}
		uins = []uint64{cu.uin}
	}
	list := w.matchingVouchers(uins, voucherFilter{req.VoucherStatus, req.PaymentMode, req.Usage, req.ProductScope, req.VoucherId})
	lo, hi := pageRange(len(list), req.Page, req.PageSize, 10)
	out := make([]partnerapi.DescribeCustomerVoucherItem, 0, hi-lo)
	for _, v := range list[lo:hi] {
		out = append(out, partnerapi.DescribeCustomerVoucherItem{
			VoucherId: v.id, CustomerUin: int64(v.owner), VoucherStatus: v.status,
			RemainingAmount: amount(v.remain), TotalAmount: amount(v.total), Usage: v.usage,
			PaymentMode: v.paymentMode, ProductScope: v.scope, EffectiveTime: apiTime(v.effective),
			ExpireTime: apiTime(v.expire), ApplyReason: v.reason,
		})
	}
	return &partnerapi.DescribeCustomerVoucherListResponse{TotalCount: uint64(len(list)), Data: out}, nil
}

func describeCustomerOwnVoucherList(w *World, c Caller, req *partnerapi.DescribeCustomerOwnVoucherListRequest) (*partnerapi.DescribeCustomerOwnVoucherListResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	list := w.matchingVouchers([]uint64{cu.uin}, voucherFilter{req.VoucherStatus, req.PaymentMode, "", req.ProductScope, req.VoucherId})
	lo, hi := pageRange(len(list), req.Page, req.PageSize, 10)
	out := make([]partnerapi.DescribeCustomerOwnVoucherItem, 0, hi-lo)
	for _, v := range list[lo:hi] {
		out = append(out, partnerapi.DescribeCustomerOwnVoucherItem{
			VoucherId: v.id, CustomerUin: int64(v.owner), VoucherStatus: v.status,
			RemainingAmount: amount(v.remain), TotalAmount: amount(v.total), PaymentMode: v.paymentMode,
			ProductScope: v.scope, EffectiveTime: apiTime(v.effective), ExpireTime: apiTime(v.expire),
		})
	}
	return &partnerapi.DescribeCustomerOwnVoucherListResponse{TotalCount: uint64(len(list)), Data: out}, nil
}

// usagePage is the shared part of the two usage-detail answers.
type usagePage struct {
	data       []partnerapi.UsageDetail
	v          *voucher
	total      int64
	month      string
	monthCount int64
}

func (w *World) usageDetails(cu *customer, voucherID int64, month string, page, size int64) (usagePage, error) {
	i := slices.IndexFunc(cu.vouchers, func(v *voucher) bool { return v.id == voucherID })
	if i < 0 {
		return usagePage{}, errorf("InvalidParameterValue", "The voucher %d does not belong to the customer %d.", voucherID, cu.uin)
	}
	v := cu.vouchers[i]
	uses := w.voucherUses(v)
	inMonth := uses
	if month != "" {
		m, ok := parseMonth(month)
		if !ok {
			return usagePage{}, errorf("InvalidParameterValue.InvalidMonth", "The month %q is not in YYYY-MM format.", month)
		}
		inMonth = nil
		for _, u := range uses {
			if monthIndex(u.paid) == m {
				inMonth = append(inMonth, u)
			}
		}
	}
	lo, hi := pageRange(len(inMonth), page, size, 10)
	data := make([]partnerapi.UsageDetail, 0, hi-lo)
	for _, u := range inMonth[lo:hi] {
		data = append(data, partnerapi.UsageDetail{
			Id: u.id, VoucherId: strconv.FormatInt(v.id, 10), DealName: u.deal, BillId: u.deal,
			Amount: amount(u.amount), PayMode: u.payMode, ProductCode: u.product.code, SubProductCode: u.sub.code,
			ProductCodeName: u.product.name, SubProductCodeName: u.sub.name, PayTime: apiTime(u.paid),
			CompletionTime: apiTime(u.paid.Add(5 * time.Second)), OwnerUin: int64(cu.uin),
		})
	}
	return usagePage{data: data, v: v, total: int64(len(uses)), month: month, monthCount: int64(len(inMonth))}, nil
}

func describeCustomerVoucherUsageDetails(w *World, c Caller, req *partnerapi.DescribeCustomerVoucherUsageDetailsRequest) (*partnerapi.DescribeCustomerVoucherUsageDetailsResponse, error) {
	cu, err := w.ownCustomerSigned(c, req.CustomerUin)
	if err != nil {
		return nil, err
	}
	u, err := w.usageDetails(cu, req.VoucherId, req.Month, req.Page, req.PageSize)
	if err != nil {
		return nil, err
	}
	return &partnerapi.DescribeCustomerVoucherUsageDetailsResponse{
		Data: u.data, CustomerUin: int64(cu.uin), VoucherId: u.v.id, TotalAmount: amount(u.v.total),
		RemainAmount: amount(u.v.remain), TotalRecordsCount: u.total, Month: u.month, RecordsCountByMonth: u.monthCount,
	}, nil
}

func describeCustomerOwnVoucherUsageDetails(w *World, c Caller, req *partnerapi.DescribeCustomerOwnVoucherUsageDetailsRequest) (*partnerapi.DescribeCustomerOwnVoucherUsageDetailsResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	u, err := w.usageDetails(cu, req.VoucherId, req.Month, req.Page, req.PageSize)
	if err != nil {
		return nil, err
	}
	return &partnerapi.DescribeCustomerOwnVoucherUsageDetailsResponse{
		Data: u.data, VoucherId: u.v.id, TotalAmount: amount(u.v.total), RemainAmount: amount(u.v.remain),
		TotalRecordsCount: u.total, Month: u.month, RecordsCountByMonth: u.monthCount,
	}, nil
}

func queryVoucherAmountByUin(w *World, c Caller, req *partnerapi.QueryVoucherAmountByUinRequest) (*partnerapi.QueryVoucherAmountByUinResponse, error) {
	out := make([]partnerapi.QueryVoucherAmountByUinItem, 0, len(req.ClientUins))
	for _, uin := range req.ClientUins {
		cu, err := w.ownCustomer(c, uin)
		if err != nil {
			return nil, err
		}
		total, remain := decimal.Zero, decimal.Zero
		for _, v := range cu.vouchers {
			total = total.Add(v.total)
			remain = remain.Add(v.remain)
		}
		out = append(out, partnerapi.QueryVoucherAmountByUinItem{ClientUin: int64(uin), TotalAmount: amount(total), RemainAmount: amount(remain)})
	}
	return &partnerapi.QueryVoucherAmountByUinResponse{Data: out}, nil
}

// listStatus names a voucher status the way QueryVoucherListByUin does.
func listStatus(status string) string {
	if status == "Issued" {
		return "Unused"
	}
	return status
}

func queryVoucherListByUin(w *World, c Caller, req *partnerapi.QueryVoucherListByUinRequest) (*partnerapi.QueryVoucherListByUinResponse, error) {
	switch req.Status {
	case "", "Unused", "Used", "Expired":
	default:
		return nil, errorf("InvalidParameterValue", "Status must be Unused, Used or Expired, got %q.", req.Status)
	}
	out := make([]partnerapi.QueryVoucherListByUinItem, 0, len(req.ClientUins))
	for _, uin := range req.ClientUins {
		cu, err := w.ownCustomer(c, uin)
		if err != nil {
			return nil, err
		}
		items := []partnerapi.QueryVoucherListByUinVoucherItem{}
		for _, v := range cu.vouchers {
			if s := listStatus(v.status); req.Status == "" || s == req.Status {
				items = append(items, partnerapi.QueryVoucherListByUinVoucherItem{VoucherId: v.code, VoucherStatus: s, TotalAmount: amount(v.total), RemainAmount: amount(v.remain)})
			}
		}
		out = append(out, partnerapi.QueryVoucherListByUinItem{ClientUin: int64(uin), TotalCount: int64(len(items)), Data: items})
	}
	return &partnerapi.QueryVoucherListByUinResponse{Data: out}, nil
}

func queryVoucherPool(w *World, c Caller, _ *partnerapi.QueryVoucherPoolRequest) (*partnerapi.QueryVoucherPoolResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	issued, n := w.vouchersIssued(p)
	accountType := int64(2)
	if p.role == partnerapi.RoleSubAgent {
		accountType = 3
	}
	return &partnerapi.QueryVoucherPoolResponse{
		AgentName: p.name, AccountType: accountType, TotalQuota: amount(p.voucherQuota),
		RemainingQuota: amount(p.voucherQuota.Sub(issued)), IssuedNum: int64(n),
	}, nil
}
