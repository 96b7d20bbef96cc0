package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/templates"
)

func (h *Handlers) credentialsPage(w http.ResponseWriter, r *http.Request) {
	h.renderCredentials(w, r, http.StatusOK, credentialPreset(r), "")
}

// credentialPreset fills the save-key form from the query string (a
// reseller's page links here to store that reseller's key), keeping only
// values of the right form; the POST is checked as always.
func credentialPreset(r *http.Request) templates.CredentialForm {
	q := r.URL.Query()
	f := templates.CredentialForm{Kind: store.CredentialDistributor}
	if kind := q.Get("kind"); kind == store.CredentialSubagent || kind == store.CredentialCustomer {
		f.Kind = kind
		if uin := q.Get("subagent_uin"); len(uin) <= 20 {
			if n, err := strconv.ParseUint(uin, 10, 64); err == nil && n > 0 {
				f.SubagentUin = strconv.FormatUint(n, 10)
			}
		}
	}
	return f
}

func (h *Handlers) renderCredentials(w http.ResponseWriter, r *http.Request, status int, form templates.CredentialForm, targetError string) {
	list, err := h.keys.List(r.Context(), actor(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.Credentials{Sandbox: h.keys.Target() == keyring.Sandbox, Forced: h.keys.Forced(), Endpoint: h.keys.Host(),
		Form: form, TargetError: targetError}
	hasDistributor := false
	for _, c := range list {
		hasDistributor = hasDistributor || c.Kind == store.CredentialDistributor
		v.Rows = append(v.Rows, templates.CredentialRow{
			ID: c.ID, Kind: c.Kind, SubagentUin: formatUin(c.SubagentUin), Label: c.Label,
			SecretID: partnerapi.MaskSecretID(c.SecretId), Updated: formatTime(r.Context(), c.UpdatedAt),
		})
	}
	if id := h.keys.FallbackSecretID(); !hasDistributor && id != "" {
		v.Fallback = partnerapi.MaskSecretID(id)
	}
	h.render(w, r, status, templates.CredentialsPage(h.page(w, r, "credentials.title"), v))
}

// saveCredential stores a key after the partner API accepted it; a refused
// key is shown with the API's answer beside the form.
func (h *Handlers) saveCredential(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := keyring.Input{
		Kind: r.PostFormValue("kind"), SubagentUin: r.PostFormValue("subagent_uin"), Label: r.PostFormValue("label"),
		SecretID: r.PostFormValue("secret_id"), SecretKey: r.PostFormValue("secret_key"),
	}
	check, err := h.keys.Save(ctx, actor(r), in)
	if err != nil {
		f := templates.CredentialForm{Kind: in.Kind, SubagentUin: in.SubagentUin, Label: in.Label, SecretID: in.SecretID}
		h.formFailure(w, r, err, func(status int, errs map[string]string) {
			f.Errors = errs
			h.renderCredentials(w, r, status, f, "")
		})
		return
	}
	h.flash(w, r, "ok", tr(ctx, "credentials.saved", map[string]any{"Remaining": formatUSD(check.Remaining)}))
	redirect(w, r, "/admin/credentials")
}

func credentialID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id
}

func (h *Handlers) deleteCredential(w http.ResponseWriter, r *http.Request) {
	if err := h.keys.Delete(r.Context(), actor(r), credentialID(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	h.flash(w, r, "ok", tr(r.Context(), "credentials.deleted"))
	redirect(w, r, "/admin/credentials")
}

// testCredential asks the partner API for the partner's credit with a
// stored key.
func (h *Handlers) testCredential(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	check, err := h.keys.Test(ctx, actor(r), credentialID(r))
	if err != nil && !errors.Is(err, keyring.ErrKeyRefused) {
		h.fail(w, r, err)
		return
	}
	result := templates.ConnectionTest{OK: err == nil}
	if err != nil {
		p := apiProblem(ctx, err)
		result.Message, result.RequestID = p.Message, p.RequestID
	} else {
		result.Message = tr(ctx, "credentials.test_ok", map[string]any{"Remaining": formatUSD(check.Remaining)})
	}
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

// setTarget switches the partner API between the sandbox and Tencent Cloud.
func (h *Handlers) setTarget(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t := keyring.Target(r.PostFormValue("target"))
	if err := h.keys.SetTarget(ctx, actor(r), t); err != nil {
		h.formFailure(w, r, err, func(status int, errs map[string]string) {
			h.renderCredentials(w, r, status, templates.CredentialForm{Kind: store.CredentialDistributor}, errs["target"])
		})
		return
	}
	h.flash(w, r, "ok", tr(ctx, "credentials.target_switched_"+string(t)))
	redirect(w, r, "/admin/credentials")
}
