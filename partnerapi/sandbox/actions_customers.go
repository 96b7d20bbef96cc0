package sandbox

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Customers and second-level resellers as partners see them.

func queryCustomersCredit(w *World, c Caller, req *partnerapi.QueryCustomersCreditRequest) (*partnerapi.QueryCustomersCreditResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	filter := strings.TrimSpace(req.Filter)
	var match func(*customer) bool // nil: every customer
	if filter != "" || req.FilterType != "" {
		lower := strings.ToLower(filter)
		switch req.FilterType {
		case "ClientUin":
			match = func(cu *customer) bool { return strconv.FormatUint(cu.uin, 10) == filter }
		case "Name":
			match = func(cu *customer) bool { return strings.Contains(strings.ToLower(cu.name), lower) }
		case "Remark":
			match = func(cu *customer) bool { return strings.Contains(strings.ToLower(cu.remark), lower) }
		case "Email":
			match = func(cu *customer) bool { return strings.Contains(strings.ToLower(cu.email), lower) }
		case "":
			// A filter without a type searches nothing in particular: no filter.
		default:
			return nil, errorf("InvalidParameterValue", "FilterType must be one of ClientUin, Name, Remark or Email, got %q.", req.FilterType)
		}
	}
	matched := p.byBindDesc
	switch strings.ToLower(req.Order) {
	case "", "desc":
	case "asc":
		matched = p.byBind
	default:
		return nil, errorf("InvalidParameterValue", "Order must be asc or desc, got %q.", req.Order)
	}
	if match != nil {
		// Filtering keeps the order: the matches of a sorted list are sorted.
		all := matched
		matched = make([]*customer, 0, 64)
		for _, cu := range all {
			if match(cu) {
				matched = append(matched, cu)
			}
		}
	}
	now := w.clock()
	lo, hi := pageRange(len(matched), req.Page, req.PageSize, 10)
	out := make([]partnerapi.QueryCustomersCreditData, 0, hi-lo)
	for _, cu := range matched[lo:hi] {
		out = append(out, partnerapi.QueryCustomersCreditData{
			Name:            cu.name,
			Type:            customerType,
			Mobile:          cu.mobile,
			Email:           maskCustomerMail(cu.email),
			Arrears:         "-",
			AssociationTime: apiTime(cu.bindTime),
			RecentExpiry:    recentExpiry(cu, now),
			ClientUin:       cu.uin,
			Credit:          amount(cu.credit),
			RemainingCredit: amount(w.remaining(cu, now)),
			IdentifyType:    uint64(cu.identify),
			Remark:          cu.remark,
			Force:           cu.force,
		})
	}
	return &partnerapi.QueryCustomersCreditResponse{Data: out, Total: uint64(len(matched))}, nil
}

// customerType is QueryCustomersCredit's Type. The documentation says only
// "Type"; "new" is the value of the published example, and the account kind
// (individual or enterprise) is in IdentifyType.
const customerType = "new"

// accountStatus is DescribeCustomerInfo's AccountStatus: "2" (documented as
// "mandatory arrears") while the customer's services are suspended, by
// ForceQN or because its available credit was set to 0; "0" otherwise.
func accountStatus(cu *customer) string {
	if cu.force == 2 || cu.creditStop {
		return "2"
	}
	return "0"
}

// recentExpiry is the nearest expiry of the customer's usable vouchers.
func recentExpiry(cu *customer, now time.Time) string {
	var best time.Time
	for _, v := range cu.vouchers {
		if v.status == "Issued" && v.expire.After(now) && (best.IsZero() || v.expire.Before(best)) {
			best = v.expire
		}
	}
	if best.IsZero() {
		return "-"
	}
	return apiTime(best)
}

func modifyClientRemark(w *World, c Caller, req *partnerapi.ModifyClientRemarkRequest) (*partnerapi.ModifyClientRemarkResponse, error) {
	uin, err := strconv.ParseUint(strings.TrimSpace(req.ClientUin), 10, 64)
	if err != nil {
		return nil, errorf("InvalidParameterValue.InvalidUin", "ClientUin %q is not a UIN.", req.ClientUin)
	}
	cu, err := w.ownCustomer(c, uin)
	if err != nil {
		return nil, err
	}
	if len([]rune(req.Remark)) > 200 {
		return nil, errorf("InvalidParameterValue", "Remark must be at most 200 characters.")
	}
	cu.remark = req.Remark
	return &partnerapi.ModifyClientRemarkResponse{ClientRemark: cu.remark}, nil
}

func describeCustomerInfo(w *World, c Caller, req *partnerapi.DescribeCustomerInfoRequest) (*partnerapi.DescribeCustomerInfoResponse, error) {
	now := w.clock()
	out := make([]partnerapi.DescribeCustomerInfoData, 0, len(req.CustomerUin))
	for _, uin := range req.CustomerUin {
		cu, err := w.ownCustomerSigned(c, uin)
		if err != nil {
			return nil, err
		}
		d := partnerapi.DescribeCustomerInfoData{
			CustomerUin:     strconv.FormatUint(cu.uin, 10),
			Email:           cu.email,
			Phone:           cu.mobile,
			Mark:            cu.remark,
			Name:            cu.name,
			BindTime:        apiTime(cu.bindTime),
			AccountStatus:   accountStatus(cu),
			AuthStatus:      "-1",
			AuthType:        -1,
			CidRegisterTime: apiTime(cu.regTime),
			UinRegisterTime: apiTime(cu.regTime),
		}
		if cu.identify > 0 {
			d.AuthStatus = "3"
			d.AuthType = int64(cu.identify) - 1
			d.AuthPassTime = apiTime(cu.regTime.Add(26 * time.Hour))
		}
		if w.hasExpense(cu, now) {
			d.HasExpense = 1
		}
		out = append(out, d)
	}
	return &partnerapi.DescribeCustomerInfoResponse{Data: out}, nil
}

func describeCustomerUin(w *World, c Caller, req *partnerapi.DescribeCustomerUinRequest) (*partnerapi.DescribeCustomerUinResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	lo, hi := pageRange(len(p.customers), req.Page, req.PageSize, 10)
	out := make([]partnerapi.DescribeCustomerUinData, 0, hi-lo)
	for _, uin := range p.customers[lo:hi] {
		out = append(out, partnerapi.DescribeCustomerUinData{CustomerUin: strconv.FormatUint(uin, 10)})
	}
	return &partnerapi.DescribeCustomerUinResponse{Data: out, Total: strconv.Itoa(len(p.customers))}, nil
}

func queryAccountVerificationStatus(w *World, c Caller, req *partnerapi.QueryAccountVerificationStatusRequest) (*partnerapi.QueryAccountVerificationStatusResponse, error) {
	cu, err := w.ownCustomerSigned(c, req.ClientUin)
	if err != nil {
		return nil, err
	}
	return &partnerapi.QueryAccountVerificationStatusResponse{AccountStatus: cu.identify > 0}, nil
}

func querySubAgentsDetailV2(w *World, c Caller, req *partnerapi.QuerySubAgentsDetailV2Request) (*partnerapi.QuerySubAgentsDetailV2Response, error) {
	if _, err := w.partnerOf(c); err != nil || c.Uin != w.distributor.uin {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "Only the distributor can list its second-level resellers.")
	}
	filter := strings.TrimSpace(req.Filter)
	lower := strings.ToLower(filter)
	match := func(*partner) bool { return true }
	if filter != "" {
		switch req.FilterType {
		case "Name":
			match = func(p *partner) bool { return strings.Contains(strings.ToLower(p.name), lower) }
		case "Remark":
			match = func(p *partner) bool { return strings.Contains(strings.ToLower(p.remark), lower) }
		case "Mobile":
			match = func(p *partner) bool { return strings.Contains(p.mobile, filter) }
		case "SubAgentUin":
			match = func(p *partner) bool { return strconv.FormatUint(p.uin, 10) == filter }
		case "Email":
			match = func(p *partner) bool { return strings.EqualFold(p.email, filter) }
		case "ClientUin":
			match = func(p *partner) bool {
				uin, err := strconv.ParseUint(filter, 10, 64)
				cu, ok := w.customers[uin]
				return err == nil && ok && cu.owner == p.uin
			}
		case "":
		default:
			return nil, errorf("InvalidParameterValue", "FilterType must be one of Name, SubAgentUin, Remark, Mobile, Email or ClientUin, got %q.", req.FilterType)
		}
	}
	var asc bool
	switch strings.ToLower(req.Order) {
	case "", "desc":
	case "asc", "acs":
		asc = true
	default:
		return nil, errorf("InvalidParameterValue", "Order must be asc or desc, got %q.", req.Order)
	}
	matched := make([]*partner, 0, len(w.subAgents))
	for _, sa := range w.subAgents {
		if match(sa) {
			matched = append(matched, sa)
		}
	}
	slices.SortStableFunc(matched, func(a, b *partner) int {
		if asc {
			return a.bindTime.Compare(b.bindTime)
		}
		return b.bindTime.Compare(a.bindTime)
	})
	lo, hi := pageRange(len(matched), req.Page, req.PageSize, 10)
	out := make([]partnerapi.QuerySubAgentsDetailV2ResponseData, 0, hi-lo)
	for _, sa := range matched[lo:hi] {
		issued, _ := w.vouchersIssued(sa)
		out = append(out, partnerapi.QuerySubAgentsDetailV2ResponseData{
			SubAgentUin:      int64(sa.uin),
			Name:             sa.name,
			Remark:           sa.remark,
			Mobile:           sa.mobile,
			Email:            sa.email,
			CountOfCustomers: int64(len(sa.customers)),
			BindTime:         apiTime(sa.bindTime),
			Credit:           amount(sa.credit),
			RemainingCredit:  amount(sa.allocable()),
			Voucher:          amount(sa.voucherQuota),
			RemainingVoucher: amount(sa.voucherQuota.Sub(issued)),
		})
	}
	return &partnerapi.QuerySubAgentsDetailV2Response{Total: int64(len(matched)), Data: out}, nil
}

// vouchersIssued sums and counts the vouchers issued to a partner's customers.
func (w *World) vouchersIssued(p *partner) (decimal.Decimal, int) {
	sum, n := decimal.Zero, 0
	for _, uin := range p.customers {
		for _, v := range w.customers[uin].vouchers {
			sum = sum.Add(v.total)
			n++
		}
	}
	return sum, n
}

func queryT1IndirectCustomersDetail(w *World, c Caller, req *partnerapi.QueryT1IndirectCustomersDetailRequest) (*partnerapi.QueryT1IndirectCustomersDetailResponse, error) {
	if _, err := w.partnerOf(c); err != nil || c.Uin != w.distributor.uin {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "Only the distributor can list indirect customers.")
	}
	sa, ok := w.partners[uint64(max(req.SubAgentUin, 0))]
	if !ok || sa.role != partnerapi.RoleSubAgent {
		return nil, errorf("FailedOperation.InvalidSubAgentUin", "The UIN %d is not a second-level reseller of the caller.", req.SubAgentUin)
	}
	lo, hi := pageRange(len(sa.customers), req.Page, req.PageSize, 20)
	out := make([]partnerapi.QueryT1IndirectCustomersDetailResponseData, 0, hi-lo)
	for _, uin := range sa.customers[lo:hi] {
		cu := w.customers[uin]
		out = append(out, partnerapi.QueryT1IndirectCustomersDetailResponseData{ClientUin: int64(cu.uin), ClientName: cu.name, ClientBindTime: apiTime(cu.bindTime)})
	}
	return &partnerapi.QueryT1IndirectCustomersDetailResponse{
		Total: int64(len(sa.customers)), SubAgentUin: int64(sa.uin), SubAgentName: sa.name, Data: out,
	}, nil
}
