package sandbox

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"resellerportal/partnerapi"
)

// TestActionPanicIsLoggedAndAnswered makes an action's handler panic: the
// caller gets InternalError, the server's log holds the panic value and the
// stack, and the World stays usable.
func TestActionPanicIsLoggedAndAnswered(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  string // in the log
	}{
		{"string", "deliberate panic in a test", "deliberate panic in a test"},
		{"error", errors.New("deliberate error panic"), "deliberate error panic"},
		{"runtime error", nil, "index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAPIRig(t, Options{})
			// The test hook: the action table is the World's; replace one handler.
			r.srv.world.actions[partnerapi.ActionQueryVoucherPool] = func(*World, Caller, json.RawMessage) (any, error) {
				if tt.value == nil {
					var none []int
					_ = none[len(tt.name)] // a genuine runtime panic
				}
				panic(tt.value)
			}
			dist := r.distributor(t)
			_, err := dist.QueryVoucherPool(t.Context(), nil)
			if code := apiCode(t, err); code != "InternalError" {
				t.Fatalf("a panicking action answered %v, want InternalError", err)
			}
			if partnerapi.RequestID(err) == "" {
				t.Error("the InternalError answer has no RequestId")
			}
			if !r.logs.contains("panic serving API request", tt.want, "stack=", "goroutine ", "sandbox.(*World).Call", partnerapi.ActionQueryVoucherPool) {
				t.Errorf("the log lacks the panic value or its stack:\n%s", r.logs)
			}
			if !strings.Contains(r.logs.String(), "request_id="+partnerapi.RequestID(err)) {
				t.Errorf("the log does not name the RequestId %s", partnerapi.RequestID(err))
			}
			// The World's lock was released: other calls still work.
			if _, err := dist.QueryPartnerCredit(t.Context(), nil); err != nil {
				t.Fatalf("the World is stuck after a panic: %v", err)
			}
		})
	}
}
