package users

import (
	"context"
	"fmt"
	"strconv"

	"resellerportal/partnerapi"
)

// Distributor gives a partner API client acting as the distributor.
type Distributor interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
}

// PartnerResellers checks reseller UINs against the partner's second-level
// resellers (QuerySubAgentsDetailV2), one exact-match call per check.
type PartnerResellers struct {
	Clients Distributor
}

// CheckReseller returns nil when uin is one of the partner's second-level
// resellers, ErrUnknownReseller when it is not.
func (r PartnerResellers) CheckReseller(ctx context.Context, uin uint64) error {
	c, err := r.Clients.Distributor(ctx)
	if err != nil {
		return fmt.Errorf("check reseller %d: %w", uin, err)
	}
	resp, err := c.QuerySubAgentsDetailV2(ctx, &partnerapi.QuerySubAgentsDetailV2Request{
		Page: 1, PageSize: 1, FilterType: "SubAgentUin", Filter: strconv.FormatUint(uin, 10),
	})
	if err != nil {
		return fmt.Errorf("check reseller %d: %w", uin, err)
	}
	for _, s := range resp.Data {
		if uint64(s.SubAgentUin) == uin {
			return nil
		}
	}
	return fmt.Errorf("reseller %d: %w", uin, ErrUnknownReseller)
}
