package sandbox

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Downloads: the actions answer a link to /sandbox/files/{name}; the file's
// CSV content is built from the same bill rows when it is fetched.

// earliestResourceBillMonth is November 2023, the first month resource bills
// (billResource, billResourcePack) can be downloaded.
var earliestResourceBillMonth = 2023*12 + 10

// offer registers a download and returns its URL.
func (w *World) offer(c Caller, name string, spec fileSpec) string {
	spec.requested = w.clock()
	w.files[name] = spec
	return c.BaseURL + "/sandbox/files/" + name
}

func (w *World) downloadMonth(s string) (int, error) {
	m, err := w.billMonth(s)
	if err != nil {
		return 0, err
	}
	if m < earliestBillMonth {
		return 0, errorf("InvalidParameterValue.InvalidMonth", "Bills can be downloaded from 2022-06 onwards, not for %s.", s)
	}
	return m, nil
}

func describeBillDownloadUrl(w *World, c Caller, req *partnerapi.DescribeBillDownloadUrlRequest) (*partnerapi.DescribeBillDownloadUrlResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	m, err := w.downloadMonth(req.Month)
	if err != nil {
		return nil, err
	}
	if req.FileType != "L2" && req.FileType != "L3" {
		return nil, errorf("InvalidParameterValue", "FileType must be L2 or L3, got %q.", req.FileType)
	}
	name := fmt.Sprintf("%s-bill-%d-%s.csv", req.FileType, cu.uin, monthString(m))
	url := w.offer(c, name, fileSpec{kind: "bill", uin: cu.uin, month: m, fileType: req.FileType})
	return &partnerapi.DescribeBillDownloadUrlResponse{DownloadUrl: url, Ready: 1}, nil
}

func describeCustomerBillDownloadUrl(w *World, c Caller, req *partnerapi.DescribeCustomerBillDownloadUrlRequest) (*partnerapi.DescribeCustomerBillDownloadUrlResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	m, err := w.downloadMonth(req.Month)
	if err != nil {
		return nil, err
	}
	switch req.CustomerUinType {
	case "Customer", "Reseller", "ResellerCustomer":
	default:
		return nil, errorf("InvalidParameterValue", "CustomerUinType must be Customer, Reseller or ResellerCustomer, got %q.", req.CustomerUinType)
	}
	switch req.FileLanguage {
	case "", "en", "zh_cn":
	default:
		return nil, errorf("InvalidParameterValue", "FileLanguage must be zh_cn or en, got %q.", req.FileLanguage)
	}
	spec := fileSpec{kind: "customer-bill", partner: p.uin, month: m, fileType: req.FileType, uinType: req.CustomerUinType}
	switch req.FileType {
	case "billDetail", "billResource":
		if req.CustomerUin <= 0 {
			return nil, errorf("MissingParameter", "CustomerUin is required for FileType %s.", req.FileType)
		}
		if err := w.checkBillSubject(p, req.CustomerUinType, uint64(req.CustomerUin)); err != nil {
			return nil, err
		}
		spec.uin = uint64(req.CustomerUin)
	case "billDetailPack", "billResourcePack":
		if m >= monthIndex(w.clock()) {
			return nil, errorf("InvalidParameterValue.InvalidMonth", "Bill packages exist only for settled months; %s is not settled yet.", req.Month)
		}
	default:
		return nil, errorf("InvalidParameterValue", "FileType must be billResource, billDetail, billResourcePack or billDetailPack, got %q.", req.FileType)
	}
	if (req.FileType == "billResource" || req.FileType == "billResourcePack") && m < earliestResourceBillMonth {
		return nil, errorf("InvalidParameterValue.InvalidMonth", "Resource bills can be downloaded from 2023-11 onwards, not for %s.", req.Month)
	}
	name := fmt.Sprintf("%s-%s-%d-%d-%s.csv", req.FileType, req.CustomerUinType, p.uin, spec.uin, monthString(m))
	url, ready := w.offerGenerated(c, name, spec)
	return &partnerapi.DescribeCustomerBillDownloadUrlResponse{DownloadUrl: url, Ready: ready}, nil
}

// checkBillSubject checks that a UIN is of the named type for the partner.
func (w *World) checkBillSubject(p *partner, uinType string, uin uint64) error {
	switch uinType {
	case "Customer":
		if cu, ok := w.customers[uin]; ok && cu.owner == p.uin {
			return nil
		}
	case "Reseller":
		if sa, ok := w.partners[uin]; ok && sa.role == partnerapi.RoleSubAgent && p.role == partnerapi.RoleDistributor {
			return nil
		}
		return errorf("FailedOperation.InvalidSubAgentUin", "The UIN %d is not a second-level reseller of the caller.", uin)
	case "ResellerCustomer":
		if cu, ok := w.customers[uin]; ok && p.role == partnerapi.RoleDistributor {
			if sa, ok := w.partners[cu.owner]; ok && sa.role == partnerapi.RoleSubAgent {
				return nil
			}
		}
	}
	return errorf("UnauthorizedOperation.NotCustomerUin", "The UIN %d is not a %s of the caller.", uin, uinType)
}

func describeRebateDownloadUrl(w *World, c Caller, req *partnerapi.DescribeRebateDownloadUrlRequest) (*partnerapi.DescribeRebateDownloadUrlResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	m, err := w.downloadMonth(req.Month)
	if err != nil {
		return nil, err
	}
	if req.FileType != "CommissionDetail" {
		return nil, errorf("InvalidParameterValue", "FileType must be CommissionDetail, got %q.", req.FileType)
	}
	name := fmt.Sprintf("CommissionDetail-%d-%s.csv", p.uin, monthString(m))
	url, ready := w.offerGenerated(c, name, fileSpec{kind: "commission", partner: p.uin, month: m, fileType: req.FileType})
	return &partnerapi.DescribeRebateDownloadUrlResponse{DownloadUrl: url, Ready: ready}, nil
}

// renderFile builds the CSV content of an offered download.
func (w *World) renderFile(spec fileSpec) []byte {
	var buf bytes.Buffer
	out := csv.NewWriter(&buf)
	now := w.clock()
	switch spec.kind {
	case "bill":
		cu := w.customers[spec.uin]
		if spec.fileType == "L2" {
			w.writeResourceBill(out, []*customer{cu}, spec.month, now)
		} else {
			w.writeDetailBill(out, []*customer{cu}, spec.month, now)
		}
	case "customer-bill":
		subjects := w.billSubjects(spec)
		switch spec.fileType {
		case "billDetail", "billDetailPack":
			w.writeDetailBill(out, subjects, spec.month, now)
		default:
			w.writeResourceBill(out, subjects, spec.month, now)
		}
	case "commission":
		w.writeCommission(out, w.partners[spec.partner], spec.month, now)
	}
	out.Flush()
	return buf.Bytes()
}

// billSubjects lists the customers a partner's bill file covers.
func (w *World) billSubjects(spec fileSpec) []*customer {
	p := w.partners[spec.partner]
	var out []*customer
	add := func(uins []uint64) {
		for _, uin := range uins {
			out = append(out, w.customers[uin])
		}
	}
	switch {
	case spec.uinType == "Customer" && spec.uin != 0:
		add([]uint64{spec.uin})
	case spec.uinType == "Customer":
		add(p.customers)
	case spec.uinType == "ResellerCustomer" && spec.uin != 0:
		add([]uint64{spec.uin})
	case spec.uinType == "Reseller" && spec.uin != 0:
		add(w.partners[spec.uin].customers)
	default: // every second-level reseller's customers
		for _, sa := range w.subAgents {
			add(sa.customers)
		}
	}
	return out
}

var detailHeader = []string{"PayerUin", "OwnerUin", "ProductName", "SubProductName", "BillingMode", "TransactionType", "ProjectName", "Region", "AvailabilityZone",
	"InstanceId", "InstanceName", "TransactionId", "TransactionTime", "UsageStartTime", "UsageEndTime", "ComponentType", "ComponentName",
	"ComponentListPrice", "ComponentPriceMeasurementUnit", "ComponentUsage", "ComponentUsageUnit", "UsageDuration", "DurationUnit",
	"OriginalCost", "VoucherDeduction", "TotalCost", "Currency"}

func (w *World) writeDetailBill(out *csv.Writer, customers []*customer, m int, now time.Time) {
	_ = out.Write(detailHeader)
	for _, cu := range customers {
		for _, r := range w.visibleRows(cu, m, now) {
			_ = out.Write([]string{strconv.FormatUint(cu.owner, 10), strconv.FormatUint(cu.uin, 10), r.product.name, r.sub.name, payModeName(r.payMode),
				r.action.name, r.project.name, r.region.name, r.zone.name, r.instanceID, r.instanceName, r.txID, apiTime(r.at), apiTime(r.start),
				apiTime(r.end), r.comp.typeName, r.comp.name, r.listPrice, r.comp.priceUnit, r.usage, r.comp.usageUnit, r.duration,
				r.comp.durationUnit, money(r.original), money(r.voucher), money(r.total), "USD"})
		}
	}
}

// writeResourceBill writes one line per customer and instance.
func (w *World) writeResourceBill(out *csv.Writer, customers []*customer, m int, now time.Time) {
	_ = out.Write([]string{"PayerUin", "OwnerUin", "ProductName", "SubProductName", "Region", "InstanceId", "InstanceName", "OriginalCost", "VoucherDeduction", "TotalCost", "Currency"})
	for _, cu := range customers {
		groups := groupRows(w.visibleRows(cu, m, now), func(r billRow) (string, string) { return r.instanceID, r.instanceName })
		for _, g := range groups {
			r := g.rows[0]
			_ = out.Write([]string{strconv.FormatUint(cu.owner, 10), strconv.FormatUint(cu.uin, 10), r.product.name, r.sub.name, r.region.name,
				g.key, g.name, money(g.costs.original), money(g.costs.voucher), money(g.costs.total), "USD"})
		}
	}
}

// commissionRate is the partner's commission on its customers' spend.
var commissionRate = decimal.RequireFromString("0.08")

// writeCommission writes the commission per customer for a month: each
// customer's TotalCost (as DescribeCustomerBillSummary answers it) times the
// rate.
func (w *World) writeCommission(out *csv.Writer, p *partner, m int, now time.Time) {
	_ = out.Write([]string{"Month", "PartnerUin", "SubAgentUin", "CustomerUin", "CustomerName", "TotalCost", "CommissionRate", "Commission", "Currency"})
	write := func(sub uint64, uins []uint64) {
		for _, uin := range uins {
			cu := w.customers[uin]
			sum := w.monthTotal(cu, m, now)
			if sum.IsZero() {
				continue
			}
			subUin := ""
			if sub != 0 {
				subUin = strconv.FormatUint(sub, 10)
			}
			_ = out.Write([]string{monthString(m), strconv.FormatUint(p.uin, 10), subUin, strconv.FormatUint(uin, 10), cu.name,
				money(sum), commissionRate.String(), money(sum.Mul(commissionRate).Round(8)), "USD"})
		}
	}
	write(0, p.customers)
	if p.role == partnerapi.RoleDistributor {
		for _, sa := range w.subAgents {
			write(sa.uin, sa.customers)
		}
	}
}
