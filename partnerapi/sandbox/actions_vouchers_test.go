package sandbox

import (
	"testing"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

func TestVoucherUsageAddsUp(t *testing.T) {
	f := newFixture(t, 51)
	list := call[partnerapi.DescribeCustomerVoucherListResponse](t, f, f.dist, "DescribeCustomerVoucherList", map[string]any{"Page": 1, "PageSize": 100})
	if list.TotalCount == 0 {
		t.Fatal("the distributor's customers have no vouchers")
	}
	for _, v := range list.Data {
		used := decimal.Zero
		var records int64
		for page := 1; ; page++ {
			u := call[partnerapi.DescribeCustomerVoucherUsageDetailsResponse](t, f, f.dist, "DescribeCustomerVoucherUsageDetails", map[string]any{"CustomerUin": v.CustomerUin, "VoucherId": v.VoucherId, "Page": page, "PageSize": 3})
			for _, d := range u.Data {
				used = used.Add(d.Amount.Decimal())
			}
			records += int64(len(u.Data))
			if len(u.Data) == 0 {
				if records != u.TotalRecordsCount {
					t.Errorf("voucher %d: %d records paged, TotalRecordsCount %d", v.VoucherId, records, u.TotalRecordsCount)
				}
				break
			}
		}
		if !v.TotalAmount.Decimal().Sub(used).Equal(v.RemainingAmount.Decimal()) {
			t.Errorf("voucher %d: total %s - used %s != remaining %s", v.VoucherId, v.TotalAmount, used, v.RemainingAmount)
		}
	}
}

func TestVoucherViewsAgree(t *testing.T) {
	f := newFixture(t, 52)
	c := f.direct[0]
	own := call[partnerapi.DescribeCustomerOwnVoucherListResponse](t, f, c, "DescribeCustomerOwnVoucherList", map[string]any{"Page": 1, "PageSize": 100})
	amounts := call[partnerapi.QueryVoucherAmountByUinResponse](t, f, f.dist, "QueryVoucherAmountByUin", map[string]any{"ClientUins": []uint64{c.Uin}})
	byUin := call[partnerapi.QueryVoucherListByUinResponse](t, f, f.dist, "QueryVoucherListByUin", map[string]any{"ClientUins": []uint64{c.Uin}})
	total, remain := decimal.Zero, decimal.Zero
	issuedRemain := decimal.Zero
	for _, v := range own.Data {
		total = total.Add(v.TotalAmount.Decimal())
		remain = remain.Add(v.RemainingAmount.Decimal())
		if v.VoucherStatus == "Issued" {
			issuedRemain = issuedRemain.Add(v.RemainingAmount.Decimal())
		}
	}
	if !amounts.Data[0].TotalAmount.Decimal().Equal(total) || !amounts.Data[0].RemainAmount.Decimal().Equal(remain) {
		t.Errorf("QueryVoucherAmountByUin %+v, list total %s remain %s", amounts.Data[0], total, remain)
	}
	if byUin.Data[0].TotalCount != int64(own.TotalCount) {
		t.Errorf("QueryVoucherListByUin counts %d, own list %d", byUin.Data[0].TotalCount, own.TotalCount)
	}
	unused := call[partnerapi.QueryVoucherListByUinResponse](t, f, f.dist, "QueryVoucherListByUin", map[string]any{"ClientUins": []uint64{c.Uin}, "Status": "Unused"})
	issued := call[partnerapi.DescribeCustomerOwnVoucherListResponse](t, f, c, "DescribeCustomerOwnVoucherList", map[string]any{"Page": 1, "PageSize": 100, "VoucherStatus": "Issued"})
	if unused.Data[0].TotalCount != int64(issued.TotalCount) || issued.TotalCount == 0 {
		t.Errorf("Unused %d, Issued %d", unused.Data[0].TotalCount, issued.TotalCount)
	}
	quota := call[partnerapi.QueryCustomerBillingQuotaResponse](t, f, c, "QueryCustomerBillingQuota", map[string]any{})
	if !quota.Data.RemainingVoucher.Decimal().Equal(issuedRemain) {
		t.Errorf("RemainingVoucher %s, issued vouchers' remainder %s", quota.Data.RemainingVoucher, issuedRemain)
	}

	pool := call[partnerapi.QueryVoucherPoolResponse](t, f, f.dist, "QueryVoucherPool", map[string]any{})
	all := call[partnerapi.DescribeCustomerVoucherListResponse](t, f, f.dist, "DescribeCustomerVoucherList", map[string]any{"Page": 1, "PageSize": 100})
	sum := decimal.Zero
	for page := int64(1); ; page++ {
		p := call[partnerapi.DescribeCustomerVoucherListResponse](t, f, f.dist, "DescribeCustomerVoucherList", map[string]any{"Page": page, "PageSize": 100})
		if len(p.Data) == 0 {
			break
		}
		for _, v := range p.Data {
			sum = sum.Add(v.TotalAmount.Decimal())
		}
	}
	if pool.IssuedNum != int64(all.TotalCount) || !pool.TotalQuota.Decimal().Sub(sum).Equal(pool.RemainingQuota.Decimal()) {
		t.Errorf("pool %+v, %d vouchers worth %s", pool, all.TotalCount, sum)
	}
}
