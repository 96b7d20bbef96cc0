package partnerapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// sdkClient is Tencent Cloud's own generic client, configured for the real
// endpoint name, whose connections land on the test sandbox.
func sdkClient(f *fixture, cred sandbox.Credential) *common.Client {
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = partnerapi.DefaultEndpoint
	prof.HttpProfile.Scheme = "HTTP"
	addr := f.ts.Listener.Addr().String()
	c := common.NewCommonClient(common.NewCredential(cred.SecretId, cred.SecretKey), "", prof)
	c.WithHttpTransport(&http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	})
	return c
}

func (w *world) credFor(role string) sandbox.Credential {
	switch role {
	case "distributor":
		return w.distCred
	case "subagent":
		return w.f.creds["subagent"][0]
	}
	return w.custCred
}

// sendRaw sends body as the action's parameters through the official SDK
// and returns the raw answer, or the API's error as a *partnerapi.APIError.
func sendRaw(t *testing.T, f *fixture, w *world, role, action string, body any) error {
	_, err := sdkSend(t, f, w.credFor(role), action, body)
	return err
}

func sdkSend(t *testing.T, f *fixture, cred sandbox.Credential, action string, body any) ([]byte, error) {
	t.Helper()
	params, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := tchttp.NewCommonRequest(partnerapi.Service, partnerapi.APIVersion, action)
	if err := req.SetActionParameters(string(params)); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	err = sdkClient(f, cred).Send(req, resp)
	var sdkErr *tcerr.TencentCloudSDKError
	if errors.As(err, &sdkErr) {
		return nil, &partnerapi.APIError{Action: action, Code: sdkErr.Code, Message: sdkErr.Message, RequestId: sdkErr.RequestId}
	}
	if err != nil {
		return nil, err
	}
	return resp.GetBody(), nil
}

func TestOfficialSDKCallsEveryAction(t *testing.T) {
	f := newFixture(t)
	w := discover(t, f)
	cases := w.cases()
	for _, a := range partnerapi.Actions() {
		t.Run(a.Name, func(t *testing.T) {
			tc, ok := cases[a.Name]
			if !ok {
				t.Fatalf("no test case for %s", a.Name)
			}
			body, err := sdkSend(t, f, w.credFor(tc.ok.role), a.Name, tc.ok.req)
			if err != nil {
				t.Fatalf("as %s: %v", tc.ok.role, err)
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var answer struct{ Response map[string]any }
			if err := dec.Decode(&answer); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if id, _ := answer.Response["RequestId"].(string); id == "" {
				t.Errorf("no RequestId in %s", body)
			}
			delete(answer.Response, "RequestId")
			for _, p := range conformance("Response", answer.Response, a.Output) {
				t.Error(p)
			}
		})
	}
}

// conformance lists the ways v differs from the named object's members in
// api.json: missing required members, unexpected members, wrong JSON types,
// nulls where none are allowed.
func conformance(path string, v map[string]any, object string) []string {
	members, ok := partnerapi.ObjectMembers(object)
	if !ok {
		return []string{fmt.Sprintf("%s: unknown object %s", path, object)}
	}
	var problems []string
	known := map[string]bool{}
	for _, m := range members {
		known[m.Name] = true
		if m.Name == "RequestId" {
			continue
		}
		val, present := v[m.Name]
		p := path + "." + m.Name
		switch {
		case !present && m.Required:
			problems = append(problems, p+": required member missing")
		case !present:
		case val == nil && !m.Nullable && m.Required:
			problems = append(problems, p+": null, which api.json does not allow")
		case val == nil:
		case m.List:
			items, ok := val.([]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %T, want a list", p, val))
				break
			}
			for i, item := range items {
				problems = append(problems, kindProblems(fmt.Sprintf("%s[%d]", p, i), item, m)...)
			}
		default:
			problems = append(problems, kindProblems(p, val, m)...)
		}
	}
	for name := range v {
		if !known[name] {
			problems = append(problems, fmt.Sprintf("%s.%s: not in api.json", path, name))
		}
	}
	return problems
}

func kindProblems(path string, v any, m partnerapi.Member) []string {
	bad := func() []string { return []string{fmt.Sprintf("%s: %T %v, want %s", path, v, v, m.Kind)} }
	switch m.Kind {
	case partnerapi.KindString:
		if _, ok := v.(string); !ok {
			return bad()
		}
	case partnerapi.KindBool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case partnerapi.KindFloat:
		if _, ok := v.(json.Number); !ok {
			return bad()
		}
	case partnerapi.KindInt64, partnerapi.KindUint64:
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			return bad()
		}
		var err error
		if m.Kind == partnerapi.KindInt64 {
			_, err = strconv.ParseInt(string(n), 10, 64)
		} else {
			_, err = strconv.ParseUint(string(n), 10, 64)
		}
		if err != nil {
			return bad()
		}
	case partnerapi.KindObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		return conformance(path, obj, m.Object)
	}
	return nil
}
