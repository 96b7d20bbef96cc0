package handlers

import (
	"context"
	"net/http"
	"strconv"

	"resellerportal/store"
)

// auditEntry starts an audit row for the signed-in user acting now.
func auditEntry(r *http.Request, action string, target uint64, params map[string]string) store.AuditEntry {
	ctx := r.Context()
	u, _ := currentUser(ctx)
	e := store.AuditEntry{
		Actor:      u.Username,
		ActorRole:  u.Role,
		Action:     action,
		TargetUin:  target,
		Params:     params,
		Outcome:    "ok",
		ClientAddr: clientAddr(ctx),
	}
	if u.Role == "subagent" {
		e.OnBehalfOf = u.SubagentUin
	}
	return e
}

// audit appends an entry in its own transaction; a failure to record is
// logged loudly, since the action it records has already happened.
func (h *Handlers) audit(ctx context.Context, e store.AuditEntry) {
	if _, err := h.DB.AppendAudit(ctx, e); err != nil {
		h.Logger.Error("append audit entry", "err", err, "action", e.Action)
	}
}

func formatUin(uin uint64) string {
	if uin == 0 {
		return ""
	}
	return strconv.FormatUint(uin, 10)
}
