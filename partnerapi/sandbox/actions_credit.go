package sandbox

import (
	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Credit: the partner's line, second-level reseller pools, customer credit
// and forced suspension.

func amount(d decimal.Decimal) partnerapi.Amount { return partnerapi.AmountFromDecimal(d) }

// allocable is what a partner may still hand out.
func (p *partner) allocable() decimal.Decimal { return p.credit.Sub(p.allocated) }

func allocateCreditPool(w *World, c Caller, req *partnerapi.AllocateCreditPoolRequest) (*partnerapi.AllocateCreditPoolResponse, error) {
	dist, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	sa, ok := w.partners[uint64(max(req.SubAgentUin, 0))]
	if !ok || sa.role != partnerapi.RoleSubAgent || dist.role != partnerapi.RoleDistributor {
		return nil, errorf("FailedOperation.InvalidSubAgentUin", "The UIN %d is not a second-level reseller of the caller.", req.SubAgentUin)
	}
	added := req.Credit.Decimal()
	if added.GreaterThan(dist.allocable()) {
		return nil, errorf("InvalidParameterValue.CreditAmountOutOfRange", "The credit %s exceeds the allocable credit %s.", added, dist.allocable())
	}
	if sa.credit.Add(added).LessThan(sa.allocated) {
		return nil, errorf("InvalidParameterValue.CreditAmountOutOfRange", "The second-level reseller has allocated %s to its customers; its pool cannot go below that.", sa.allocated)
	}
	sa.credit = sa.credit.Add(added)
	dist.allocated = dist.allocated.Add(added)
	return &partnerapi.AllocateCreditPoolResponse{
		RemainingCredit: amount(sa.allocable()),
		TotalCredit:     amount(sa.credit),
	}, nil
}

func allocateCustomerCredit(w *World, c Caller, req *partnerapi.AllocateCustomerCreditRequest) (*partnerapi.AllocateCustomerCreditResponse, error) {
	cu, err := w.ownCustomer(c, req.ClientUin)
	if err != nil {
		return nil, err
	}
	p := w.partners[c.Uin]
	now := w.clock()
	added := req.AddedCredit.Decimal()
	if added.GreaterThan(p.allocable()) {
		return nil, errorf("InvalidParameterValue.CreditAmountOutOfRange", "The added credit %s exceeds the remaining allocable credit %s.", added, p.allocable())
	}
	available := w.remaining(cu, now)
	if available.Add(added).IsNegative() || cu.credit.Add(added).IsNegative() {
		return nil, errorf("InvalidParameterValue.CreditAmountOutOfRange", "Taking back %s would leave the customer's available credit (%s) below 0.", added.Neg(), available)
	}
	cu.credit = cu.credit.Add(added)
	p.allocated = p.allocated.Add(added)
	remain := w.remaining(cu, now)
	// Available credit set to 0 suspends the customer's services until
	// credit is added back (the sandbox's partners do not hold the
	// "non-stop" privilege the documentation mentions).
	cu.creditStop = remain.IsZero()
	cu.history = append(cu.history, allocation{
		time:     now,
		operator: p.name,
		added:    added,
		after:    cu.credit,
		remain:   remain,
		remark:   req.Remark,
	})
	return &partnerapi.AllocateCustomerCreditResponse{TotalCredit: amount(cu.credit), RemainingCredit: amount(remain)}, nil
}

func queryCreditAllocationHistory(w *World, c Caller, req *partnerapi.QueryCreditAllocationHistoryRequest) (*partnerapi.QueryCreditAllocationHistoryResponse, error) {
	cu, err := w.ownCustomer(c, req.ClientUin)
	if err != nil {
		return nil, err
	}
	// Newest first, as a history page reads.
	n := len(cu.history)
	lo, hi := pageRange(n, int64(min(req.Page, 1<<40)), int64(min(req.PageSize, 1<<40)), 10)
	out := make([]partnerapi.QueryCreditAllocationHistoryData, 0, hi-lo)
	for i := lo; i < hi; i++ {
		h := cu.history[n-1-i]
		out = append(out, partnerapi.QueryCreditAllocationHistoryData{
			AllocatedTime:     apiTime(h.time),
			Operator:          h.operator,
			Credit:            amount(h.added),
			AllocatedCredit:   amount(h.after),
			ClientCreditAfter: amount(h.remain),
			Remark:            h.remark,
		})
	}
	return &partnerapi.QueryCreditAllocationHistoryResponse{Total: uint64(n), History: out}, nil
}

func queryCreditByUinList(w *World, c Caller, req *partnerapi.QueryCreditByUinListRequest) (*partnerapi.QueryCreditByUinListResponse, error) {
	now := w.clock()
	out := make([]partnerapi.QueryDirectCustomersCreditData, 0, len(req.UinList))
	for _, uin := range req.UinList {
		cu, err := w.ownCustomer(c, uin)
		if err != nil {
			return nil, err
		}
		out = append(out, partnerapi.QueryDirectCustomersCreditData{Uin: uin, TotalCredit: amount(cu.credit), RemainingCredit: amount(w.remaining(cu, now))})
	}
	return &partnerapi.QueryCreditByUinListResponse{Data: out}, nil
}

func queryDirectCustomersCredit(w *World, c Caller, _ *partnerapi.QueryDirectCustomersCreditRequest) (*partnerapi.QueryDirectCustomersCreditResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	out := make([]partnerapi.QueryDirectCustomersCreditData, 0, len(p.customers))
	for _, uin := range p.customers {
		cu := w.customers[uin]
		out = append(out, partnerapi.QueryDirectCustomersCreditData{Uin: uin, TotalCredit: amount(cu.credit), RemainingCredit: amount(w.remaining(cu, now))})
	}
	return &partnerapi.QueryDirectCustomersCreditResponse{Data: out}, nil
}

func queryPartnerCredit(w *World, c Caller, _ *partnerapi.QueryPartnerCreditRequest) (*partnerapi.QueryPartnerCreditResponse, error) {
	p, err := w.partnerOf(c)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	custTotal, custRemain := decimal.Zero, decimal.Zero
	for _, uin := range p.customers {
		cu := w.customers[uin]
		custTotal = custTotal.Add(cu.credit)
		custRemain = custRemain.Add(w.remaining(cu, now))
	}
	return &partnerapi.QueryPartnerCreditResponse{
		AllocatedCredit:         amount(p.allocated),
		TotalCredit:             amount(p.credit),
		RemainingCredit:         amount(p.allocable()),
		CustomerTotalCredit:     amount(custTotal),
		CustomerRemainingCredit: amount(custRemain),
	}, nil
}

func forceQN(w *World, c Caller, req *partnerapi.ForceQNRequest) (*partnerapi.ForceQNResponse, error) {
	cu, err := w.ownCustomer(c, req.ClientUin)
	if err != nil {
		return nil, err
	}
	if req.Type != 0 && req.Type != 2 {
		return nil, errorf("InvalidParameterValue", "Type must be 0 (normal) or 2 (forced service suspension), got %d.", req.Type)
	}
	cu.force = int64(req.Type)
	// C and M are deprecated: the answer carries only the RequestId.
	return &partnerapi.ForceQNResponse{}, nil
}

func queryCustomerBillingQuota(w *World, c Caller, _ *partnerapi.QueryCustomerBillingQuotaRequest) (*partnerapi.QueryCustomerBillingQuotaResponse, error) {
	cu, err := w.self(c)
	if err != nil {
		return nil, err
	}
	now := w.clock()
	vouchers := decimal.Zero
	for _, v := range cu.vouchers {
		if v.status == "Issued" {
			vouchers = vouchers.Add(v.remain)
		}
	}
	return &partnerapi.QueryCustomerBillingQuotaResponse{Data: partnerapi.QueryCustomerBillingQuotaData{
		TotalCredit:      amount(cu.credit),
		RemainingCredit:  amount(w.remaining(cu, now)),
		RemainingVoucher: amount(vouchers),
		Force:            cu.force,
		PrepayFrozen:     amount(decimal.Zero),
		PostpayFrozen:    amount(decimal.Zero),
	}}, nil
}
