package templates

import (
	"context"
	"strconv"
	"strings"

	"resellerportal/web/i18n"
)

func itoa(n int) string { return strconv.Itoa(n) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// roleLabel names a role in the reader's language; audit rows written by the
// system or before sign-in carry no portal role.
func roleLabel(ctx context.Context, role string) string {
	switch role {
	case "admin", "staff", "finance", "subagent", "system":
		return i18n.T(ctx, "role."+role)
	}
	return ""
}

// invalid is the aria-invalid value of a form field.
func invalid(errs map[string]string, field string) string {
	if _, ok := errs[field]; ok {
		return "true"
	}
	return "false"
}

// otherTarget is the partner API target a switch button leads to.
func otherTarget(sandbox bool) string {
	if sandbox {
		return "tencentcloud"
	}
	return "sandbox"
}

// backgroundHeaders mark an htmx request no person made (a poll, a
// background refresh): it does not keep an idle session alive.
const backgroundHeaders = `{"X-Background": "true"}`

func orText(t string) string {
	if t == "" {
		return "text"
	}
	return t
}

// describedBy lists the ids of a field's rule and problem for
// aria-describedby.
func describedBy(in Input, errs map[string]string) string {
	var ids []string
	if in.HintID != "" {
		ids = append(ids, "f-"+in.Name+"-hint")
	}
	if _, ok := errs[in.Name]; ok {
		ids = append(ids, "f-"+in.Name+"-error")
	}
	return strings.Join(ids, " ")
}
