package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"resellerportal/partnerapi"
)

// Allowlisting: five actions work only after Tencent Cloud allowlists the
// partner for them (partnerapi.RequiresAllowlist). Every partner of the
// world is allowlisted for all five unless Options.NotAllowlisted, the
// /sandbox/allowlist control or SetAllowlisted says otherwise.

// AllPartners stands for every partner of the world in SetAllowlisted,
// including second-level resellers approved later.
const AllPartners uint64 = 0

// ErrUnknownPartner is returned for a UIN that is not a partner of the world.
var ErrUnknownPartner = errors.New("sandbox: no partner with that UIN in the world")

// AllowlistRefusal names an allowlisted action a partner may not call.
type AllowlistRefusal struct {
	PartnerUin uint64 `json:"PartnerUin"`
	Action     string `json:"Action"`
}

// AllowlistState is the allowlist as GET /sandbox/allowlist shows it: the
// actions that require the allowlist, the partners refused one of them, and
// the actions refused to partners approved from now on.
type AllowlistState struct {
	Actions        []string           `json:"Actions"`
	NotAllowlisted []AllowlistRefusal `json:"NotAllowlisted"`
	NewPartners    []string           `json:"NotAllowlistedForNewPartners"`
}

// checkAllowlist refuses an allowlisted action to a partner that is not
// allowlisted for it. The real code is not documented; UnauthorizedOperation
// is the service's generic refusal.
func (w *World) checkAllowlist(c Caller, action string) error {
	if !partnerapi.RequiresAllowlist(action) {
		return nil
	}
	p, ok := w.partners[c.Uin]
	if !ok || !p.notAllowlisted[action] {
		return nil
	}
	return errorf("UnauthorizedOperation",
		"%s can be used only after Tencent Cloud adds the partner to its allowlist, and partner %d is not on it; ask your channel manager to apply for the allowlist.",
		action, c.Uin)
}

// setAllowlisted grants or refuses an allowlisted action to one partner, or
// to all of them and to partners approved later.
func (w *World) setAllowlisted(partnerUin uint64, action string, allowed bool) error {
	if !partnerapi.RequiresAllowlist(action) {
		return fmt.Errorf("sandbox: %q does not require the allowlist; the actions that do are %v", action, partnerapi.AllowlistedActions())
	}
	set := func(m map[string]bool) {
		if allowed {
			delete(m, action)
		} else {
			m[action] = true
		}
	}
	if partnerUin == AllPartners {
		set(w.notAllowlisted)
		for _, p := range w.partners {
			set(p.notAllowlisted)
		}
		return nil
	}
	p, ok := w.partners[partnerUin]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPartner, partnerUin)
	}
	set(p.notAllowlisted)
	return nil
}

// allowlistState lists the refusals, partners in UIN order.
func (w *World) allowlistState() AllowlistState {
	st := AllowlistState{
		Actions:        partnerapi.AllowlistedActions(),
		NotAllowlisted: []AllowlistRefusal{},
		NewPartners:    slices.Sorted(maps.Keys(w.notAllowlisted)),
	}
	for _, uin := range slices.Sorted(maps.Keys(w.partners)) {
		for _, action := range slices.Sorted(maps.Keys(w.partners[uin].notAllowlisted)) {
			st.NotAllowlisted = append(st.NotAllowlisted, AllowlistRefusal{PartnerUin: uin, Action: action})
		}
	}
	if st.NewPartners == nil {
		st.NewPartners = []string{}
	}
	return st
}

// SetAllowlisted grants (allowed true) or refuses an action that requires
// Tencent's allowlist to the partner with the UIN, or to every partner,
// those approved later included, when partnerUin is AllPartners. A refused
// call answers UnauthorizedOperation. It fails for an action that does not
// require the allowlist and, wrapping ErrUnknownPartner, for an unknown UIN.
func (s *Server) SetAllowlisted(partnerUin uint64, action string, allowed bool) error {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return s.world.setAllowlisted(partnerUin, action, allowed)
}

// Allowlist returns which partners are refused which allowlisted actions.
func (s *Server) Allowlist() AllowlistState {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return s.world.allowlistState()
}

// ResetAllowlist allowlists every partner, present and future, for every
// action again.
func (s *Server) ResetAllowlist() {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	clear(s.world.notAllowlisted)
	for _, p := range s.world.partners {
		clear(p.notAllowlisted)
	}
}

// allowlistChange is the body of POST /sandbox/allowlist.
type allowlistChange struct {
	PartnerUin  uint64 `json:"PartnerUin"` // 0 or absent: every partner
	Action      string `json:"Action"`
	Allowlisted *bool  `json:"Allowlisted"`
}

func (s *Server) serveAllowlist(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, s.Allowlist())
}

func (s *Server) serveSetAllowlisted(w http.ResponseWriter, r *http.Request) {
	var ch allowlistChange
	if err := decodeControl(r, &ch); err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": "the body must be {\"PartnerUin\": N, \"Action\": \"...\", \"Allowlisted\": true|false}: " + err.Error()})
		return
	}
	if ch.Allowlisted == nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": "Allowlisted (true or false) is required"})
		return
	}
	if err := s.SetAllowlisted(ch.PartnerUin, ch.Action, *ch.Allowlisted); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrUnknownPartner) {
			status = http.StatusNotFound
		}
		s.writeJSON(w, status, map[string]string{"Error": err.Error()})
		return
	}
	s.writeJSON(w, http.StatusOK, s.Allowlist())
}

func (s *Server) serveResetAllowlist(w http.ResponseWriter, r *http.Request) {
	s.ResetAllowlist()
	w.WriteHeader(http.StatusNoContent)
}

// decodeControl decodes the JSON body of a /sandbox control request;
// unknown members are an error, so a misspelt member is not silently
// ignored. An empty body decodes as {}.
func decodeControl(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}
