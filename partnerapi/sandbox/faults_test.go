package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

func TestCodeFault(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	call := func(action string) apiAnswer {
		return serve(t, s, signedCall{Action: action, SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}.request())
	}

	s.InjectFault(Fault{Action: "QueryPartnerCredit", Count: 2, Code: "OperationDenied.ServiceBusy"})
	s.InjectFault(Fault{Action: "QueryVoucherPool", Code: "InternalError", Message: "disk on fire"})

	tests := []struct {
		action, code, message string
	}{
		{"QueryPartnerCredit", "OperationDenied.ServiceBusy", "System busy; try again later"},
		{"QueryDirectCustomersCredit", "", ""}, // faults of other actions do not apply
		{"QueryPartnerCredit", "OperationDenied.ServiceBusy", "System busy; try again later"},
		{"QueryPartnerCredit", "", ""},
		{"QueryVoucherPool", "InternalError", "disk on fire"},
		{"QueryVoucherPool", "", ""},
	}
	for i, tt := range tests {
		a := call(tt.action)
		if a.code() != tt.code || a.message() != tt.message {
			t.Errorf("call %d %s: %q %q, want %q %q", i, tt.action, a.code(), a.message(), tt.code, tt.message)
		}
	}

	s.InjectFault(Fault{Count: 3, Code: "InternalError"}) // any action
	s.ClearFaults()
	if a := call("QueryPartnerCredit"); a.code() != "" {
		t.Errorf("after ClearFaults: %s", a.code())
	}
	s.InjectFault(Fault{Code: "InternalError"}) // Count 0 means 1, any action
	if a := call("QueryVoucherPool"); a.code() != "InternalError" {
		t.Errorf("fault for any action: %q", a.code())
	}
	if a := call("QueryVoucherPool"); a.code() != "" {
		t.Errorf("fault applied twice: %q", a.code())
	}
}

func TestFaultsNeedAValidRequest(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	s.InjectFault(Fault{Action: "QueryCreditByUinList", Code: "InternalError"})
	bad := signedCall{Action: "QueryCreditByUinList", Body: `{"UinList":[]}`, SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}
	if code := serve(t, s, bad.request()).code(); code != "InvalidParameterValue.UinList" {
		t.Fatalf("invalid request answered %q; validation comes before faults", code)
	}
	if n := len(s.faults.list()); n != 1 {
		t.Fatalf("an invalid request consumed the fault: %d left", n)
	}
}

func TestLatencyFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTestServer(t, time.Now, 1000)
		dist := credentialFor(t, s, "distributor", 0)
		s.InjectFault(Fault{Action: "QueryPartnerCredit", Count: 2, Latency: 3 * time.Second})

		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.ServeHTTP(rec, signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: time.Now()}.request())
		}()
		time.Sleep(2999 * time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("answered before the latency elapsed")
		default:
		}
		time.Sleep(time.Millisecond)
		<-done
		var a apiAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.code() != "" {
			t.Fatalf("answer after latency: %v %s", err, rec.Body)
		}

		// A client that goes away ends the wait; nothing is written.
		ctx, cancel := context.WithCancel(t.Context())
		rec = httptest.NewRecorder()
		done = make(chan struct{})
		go func() {
			defer close(done)
			r := signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: time.Now()}.request()
			s.ServeHTTP(rec, r.WithContext(ctx))
		}()
		time.Sleep(time.Second)
		cancel()
		<-done
		if rec.Body.Len() != 0 {
			t.Fatalf("wrote %s to a client that went away", rec.Body)
		}
	})
}

func TestDropFault(t *testing.T) {
	s := newTestServer(t, nil, 1000)
	ts := httptest.NewServer(s)
	defer ts.Close()
	dist := credentialFor(t, s, "distributor", 0)
	client := sdkClient(ts, dist.SecretId, dist.SecretKey, "POST")

	send := func(action, params string) (map[string]json.RawMessage, error) {
		req := tchttp.NewCommonRequest("intlpartnersmgt", "2022-09-28", action)
		if err := req.SetActionParameters(params); err != nil {
			t.Fatal(err)
		}
		resp := tchttp.NewCommonResponse()
		if err := client.Send(req, resp); err != nil {
			return nil, err
		}
		var body struct{ Response map[string]json.RawMessage }
		if err := json.Unmarshal(resp.GetBody(), &body); err != nil {
			t.Fatal(err)
		}
		return body.Response, nil
	}
	type customer struct {
		ClientUin uint64
		Credit    json.Number
	}
	firstCustomer := func(filter string) customer {
		t.Helper()
		params := `{"Page":1,"PageSize":1}`
		if filter != "" {
			params = `{"FilterType":"ClientUin","Filter":"` + filter + `","Page":1,"PageSize":1}`
		}
		resp, err := send("QueryCustomersCredit", params)
		if err != nil {
			t.Fatalf("QueryCustomersCredit: %v", err)
		}
		var data []customer
		if err := json.Unmarshal(resp["Data"], &data); err != nil || len(data) == 0 {
			t.Fatalf("QueryCustomersCredit Data: %v %s", err, resp["Data"])
		}
		return data[0]
	}

	before := firstCustomer("")
	uin := strconv.FormatUint(before.ClientUin, 10)
	s.InjectFault(Fault{Action: "AllocateCustomerCredit", Drop: true})
	_, err := send("AllocateCustomerCredit", `{"AddedCredit":123.45,"ClientUin":`+uin+`}`)
	if err == nil {
		t.Fatal("the client got an answer from a dropped connection")
	}
	var sdkErr *sdkerrors.TencentCloudSDKError
	if errors.As(err, &sdkErr) && sdkErr.GetCode() != "ClientError.NetworkError" {
		t.Fatalf("the client got an API answer %s, want a connection error", sdkErr.GetCode())
	}
	if n := s.Requests("AllocateCustomerCredit"); n != 1 {
		t.Errorf("Requests(AllocateCustomerCredit) = %d, want 1", n)
	}
	after := firstCustomer(uin)
	if after.ClientUin != before.ClientUin || after.Credit == before.Credit {
		t.Errorf("credit of %d: before %s, after %s; the dropped write was not applied", before.ClientUin, before.Credit, after.Credit)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	s := newTestServer(t, (&fakeClock{t: testNow}).Now, 1)
	do := func(method, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(method, "/sandbox/faults", strings.NewReader(body)))
		return rec
	}
	list := func() []map[string]any {
		rec := do(http.MethodGet, "")
		var out []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("list: %d %v %s", rec.Code, err, rec.Body)
		}
		return out
	}

	if rec := do(http.MethodPost, `{"Action":"QueryPartnerCredit","Count":2,"Code":"InternalError"}`); rec.Code != http.StatusCreated {
		t.Fatalf("add: %d %s", rec.Code, rec.Body)
	}
	if rec := do(http.MethodPost, `{"Action":"QueryVoucherPool","LatencyMs":1500}`); rec.Code != http.StatusCreated {
		t.Fatalf("add latency: %d %s", rec.Code, rec.Body)
	}
	faults := list()
	if len(faults) != 2 || faults[0]["Code"] != "InternalError" || faults[0]["Count"] != 2.0 || faults[1]["LatencyMs"] != 1500.0 {
		t.Fatalf("listed %v", faults)
	}
	if got := s.faults.list()[1].Latency; got != 1500*time.Millisecond {
		t.Errorf("latency %v, want 1.5s", got)
	}

	for _, bad := range []string{`nope`, `{"Action":"X"}`, `{"Code":"InternalError","Drop":true}`, `{"Code":"X","Count":-1}`, `{"Code":"X","Colour":"red"}`} {
		if rec := do(http.MethodPost, bad); rec.Code != http.StatusBadRequest {
			t.Errorf("POST %s: status %d, want 400", bad, rec.Code)
		}
	}

	if rec := do(http.MethodDelete, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("clear: %d", rec.Code)
	}
	if faults := list(); len(faults) != 0 {
		t.Fatalf("after clear: %v", faults)
	}
}
