package sandbox

import (
	"strconv"
	"testing"

	"resellerportal/partnerapi"
)

func TestDemoPartners(t *testing.T) {
	r := newAPIRig(t, Options{})
	dist, sub := r.srv.DemoDistributor(), r.srv.DemoSubAgent()
	tests := []struct {
		name    string
		partner DemoPartner
		role    string
	}{
		{"distributor", dist, "distributor"},
		{"second-level reseller", sub, "subagent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.partner.Uin == 0 || tt.partner.Name == "" || tt.partner.Credential.SecretId == "" || tt.partner.Credential.SecretKey == "" {
				t.Fatalf("incomplete demo partner %+v", tt.partner)
			}
			if got := credentialFor(t, r.srv, tt.role, 0); got.Uin != tt.partner.Uin || got.SecretId != tt.partner.Credential.SecretId {
				t.Errorf("demo partner %d is not the first %s of Credentials (%d)", tt.partner.Uin, tt.role, got.Uin)
			}
			if _, err := r.client(t, tt.partner.Credential).QueryPartnerCredit(t.Context(), nil); err != nil {
				t.Fatalf("the demo credential does not sign: %v", err)
			}
		})
	}
	// The second-level reseller is the distributor's.
	list, err := r.client(t, dist.Credential).QuerySubAgentsDetailV2(t.Context(), &partnerapi.QuerySubAgentsDetailV2Request{
		Page: 1, PageSize: 10, FilterType: "SubAgentUin", Filter: strconv.FormatUint(sub.Uin, 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].Name != sub.Name {
		t.Errorf("the distributor lists %+v for its second-level reseller %d %q", list.Data, sub.Uin, sub.Name)
	}
}
