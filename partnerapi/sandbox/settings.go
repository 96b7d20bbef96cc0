package sandbox

import (
	"fmt"
	"net/http"
)

// MailLimitScope says what the three-minute limit between invitation mails
// (FailedOperation.SendMailLimit180) is counted per. The documentation says
// "invitation links sent less than three minutes apart" without saying per
// what, so the sandbox offers both readings.
type MailLimitScope string

// The two readings of the invitation mail limit.
const (
	// MailLimitPerAddress allows one invitation to the same address every
	// three minutes; different addresses do not wait. The default.
	MailLimitPerAddress MailLimitScope = "address"
	// MailLimitPerPartner allows one invitation by the same partner every
	// three minutes, whatever the address.
	MailLimitPerPartner MailLimitScope = "partner"
)

// parseMailLimitScope reads a scope; empty means MailLimitPerAddress.
func parseMailLimitScope(s string) (MailLimitScope, error) {
	switch MailLimitScope(s) {
	case "", MailLimitPerAddress:
		return MailLimitPerAddress, nil
	case MailLimitPerPartner:
		return MailLimitPerPartner, nil
	}
	return "", fmt.Errorf("MailLimitScope must be %q or %q, not %q", MailLimitPerAddress, MailLimitPerPartner, s)
}

// Settings are the world's settings that the /sandbox/settings control
// shows and changes.
type Settings struct {
	MailLimitScope MailLimitScope `json:"MailLimitScope"`
}

// Settings returns the world's current settings.
func (s *Server) Settings() Settings {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return Settings{MailLimitScope: s.world.mailScope}
}

// SetMailLimitScope changes what the three-minute invitation mail limit is
// counted per, from the next invitation on; invitations already sent count
// under the new scope too.
func (s *Server) SetMailLimitScope(scope MailLimitScope) error {
	parsed, err := parseMailLimitScope(string(scope))
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	s.world.mailScope = parsed
	return nil
}

func (s *Server) serveSettings(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, s.Settings())
}

// serveChangeSettings applies the members present in the body; absent
// members keep their value.
func (s *Server) serveChangeSettings(w http.ResponseWriter, r *http.Request) {
	var change struct {
		MailLimitScope *MailLimitScope `json:"MailLimitScope"`
	}
	if err := decodeControl(r, &change); err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": "the body must be {\"MailLimitScope\": \"address\"|\"partner\"}: " + err.Error()})
		return
	}
	if change.MailLimitScope != nil {
		if err := s.SetMailLimitScope(*change.MailLimitScope); err != nil {
			s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": err.Error()})
			return
		}
	}
	s.writeJSON(w, http.StatusOK, s.Settings())
}
