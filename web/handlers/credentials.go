package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

func (h *Handlers) credentialsPage(w http.ResponseWriter, r *http.Request) {
	h.renderCredentials(w, r, http.StatusOK, templates.CredentialForm{Kind: store.CredentialDistributor})
}

func (h *Handlers) renderCredentials(w http.ResponseWriter, r *http.Request, status int, form templates.CredentialForm) {
	list, err := h.DB.ListCredentials(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.Credentials{Sandbox: h.Sandbox, Endpoint: h.Endpoint, Form: form}
	hasDistributor := false
	for _, c := range list {
		hasDistributor = hasDistributor || c.Kind == store.CredentialDistributor
		v.Rows = append(v.Rows, templates.CredentialRow{
			ID: c.ID, Kind: c.Kind, SubagentUin: formatUin(c.SubagentUin), Label: c.Label,
			SecretID: partnerapi.MaskSecretID(c.SecretId), Updated: formatTime(c.UpdatedAt),
		})
	}
	if !hasDistributor && h.FallbackSecretID != "" {
		v.Fallback = partnerapi.MaskSecretID(h.FallbackSecretID)
	}
	h.render(w, r, status, templates.CredentialsPage(h.page(w, r, "credentials.title"), v))
}

// saveCredential seals the SecretKey and stores it; the audit row names
// the masked SecretId only.
func (h *Handlers) saveCredential(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := templates.CredentialForm{
		Kind:        r.PostFormValue("kind"),
		SubagentUin: strings.TrimSpace(r.PostFormValue("subagent_uin")),
		Label:       strings.TrimSpace(r.PostFormValue("label")),
		SecretID:    strings.TrimSpace(r.PostFormValue("secret_id")),
	}
	secretKey := strings.TrimSpace(r.PostFormValue("secret_key"))
	c := store.APICredential{Kind: f.Kind, Label: f.Label, SecretId: f.SecretID}
	switch {
	case f.Kind != store.CredentialDistributor && f.Kind != store.CredentialSubagent:
		f.Error = tr(ctx, "credentials.bad_kind")
	case f.SecretID == "" || secretKey == "":
		f.Error = tr(ctx, "credentials.need_both")
	case f.Kind == store.CredentialSubagent:
		uin, err := strconv.ParseUint(f.SubagentUin, 10, 64)
		if err != nil || uin == 0 {
			f.Error = tr(ctx, "credentials.need_uin")
		}
		c.SubagentUin = uin
	case f.SubagentUin != "":
		f.Error = tr(ctx, "credentials.uin_only_subagent")
	}
	if f.Error != "" {
		h.renderCredentials(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	sealed, err := h.Partner.Seal(f.SecretID, secretKey)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c.SecretKeyCipher = sealed
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		saved, err := tx.SaveCredential(ctx, c)
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, auditEntry(r, "credential.save", saved.SubagentUin, map[string]string{
			"kind": saved.Kind, "secret_id": partnerapi.MaskSecretID(saved.SecretId), "label": saved.Label,
		}))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "credentials.saved"))
	redirect(w, r, "/admin/credentials")
}

func (h *Handlers) credentialFromURL(r *http.Request) (store.APICredential, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return store.APICredential{}, store.ErrNotFound
	}
	list, err := h.DB.ListCredentials(r.Context())
	if err != nil {
		return store.APICredential{}, err
	}
	for _, c := range list {
		if c.ID == id {
			return c, nil
		}
	}
	return store.APICredential{}, store.ErrNotFound
}

func (h *Handlers) deleteCredential(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := h.credentialFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	err = h.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteCredential(ctx, c.ID); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, auditEntry(r, "credential.delete", c.SubagentUin, map[string]string{
			"kind": c.Kind, "secret_id": partnerapi.MaskSecretID(c.SecretId),
		}))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(ctx, "credentials.deleted"))
	redirect(w, r, "/admin/credentials")
}

// testCredential asks the partner API for the partner's credit with the
// stored credential: the cheapest call that proves the key works.
func (h *Handlers) testCredential(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := h.credentialFromURL(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	client, err := h.storedClient(r, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp, err := client.QueryPartnerCredit(partnerapi.WithLanguage(ctx, apiLanguage(ctx)), nil)
	result := templates.ConnectionTest{OK: err == nil}
	if err != nil {
		p := apiProblem(ctx, err)
		result.Message, result.RequestID = p.Message, p.RequestID
	} else {
		result.Message = tr(ctx, "credentials.test_ok", map[string]any{"Remaining": formatUSD(resp.RemainingCredit)})
	}
	h.audit(ctx, func() store.AuditEntry {
		e := auditEntry(r, "credential.test", c.SubagentUin, map[string]string{"secret_id": partnerapi.MaskSecretID(c.SecretId)})
		if err != nil {
			e.Outcome, e.Code, e.RequestId = "failed", partnerapi.ErrorCode(err), result.RequestID
		} else {
			e.RequestId = resp.RequestId
		}
		return e
	}())
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, templates.ConnectionTestResult(result))
		return
	}
	kind := "ok"
	if !result.OK {
		kind = "error"
	}
	h.flash(w, r, kind, result.Message)
	redirect(w, r, "/admin/credentials")
}

var errSealed = errors.New("stored credential cannot be opened")

// storedClient opens a stored credential into a client.
func (h *Handlers) storedClient(r *http.Request, c store.APICredential) (*partnerapi.Client, error) {
	switch c.Kind {
	case store.CredentialSubagent:
		client, own, err := h.Partner.ForSubagent(r.Context(), c.SubagentUin)
		if err == nil && !own {
			return nil, errSealed
		}
		return client, err
	default:
		return h.Partner.Distributor(r.Context())
	}
}
