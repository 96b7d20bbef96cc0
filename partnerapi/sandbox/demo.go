package sandbox

import "resellerportal/partnerapi"

// DemoPartner is a partner of the sandbox's world that has an API key: who
// it is and the credential to give partnerapi.Config to act as it.
type DemoPartner struct {
	Uin        uint64
	Name       string
	Credential partnerapi.Credential
}

// DemoDistributor returns the world's distributor, the partner the portal
// acts for. Every world has one.
func (s *Server) DemoDistributor() DemoPartner {
	return s.world.demoPartner(partnerapi.RoleDistributor)
}

// DemoSubAgent returns a second-level reseller of the distributor: the
// first one Credentials lists. Every world has one.
func (s *Server) DemoSubAgent() DemoPartner {
	return s.world.demoPartner(partnerapi.RoleSubAgent)
}

// demoPartner returns the first credential of a role.
func (w *World) demoPartner(role partnerapi.Role) DemoPartner {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.credentials {
		if c.Role == role.String() {
			return DemoPartner{
				Uin:        c.Uin,
				Name:       c.Name,
				Credential: partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey},
			}
		}
	}
	// generate always makes a distributor and second-level resellers with
	// credentials; a world without them is a bug.
	panic("sandbox: the world has no " + role.String() + " credential")
}
