package templates

import (
	"context"
	"strconv"

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
