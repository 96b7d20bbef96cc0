package partnerapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	tcjson "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/json"

	"resellerportal/partnerapi"
)

// answerBySDK is what the partner API client makes of an answer body when
// the Tencent Cloud SDK checks it for errors and the client decodes the
// Response: the answer, an API error, or (ok false) a transport failure.
func answerBySDK(body string) (resp partnerapi.DescribeCustomerInfoResponse, apiErr *partnerapi.APIError, ok bool) {
	if err := tchttp.ParseErrorFromHTTPResponse([]byte(body)); err != nil {
		var sdkErr *tcerr.TencentCloudSDKError
		if errors.As(err, &sdkErr) && !strings.HasPrefix(sdkErr.Code, "ClientError") {
			return resp, &partnerapi.APIError{Action: partnerapi.ActionDescribeCustomerInfo, Code: sdkErr.Code, Message: sdkErr.Message, RequestId: sdkErr.RequestId}, true
		}
		return resp, nil, false
	}
	var env struct {
		Response json.RawMessage `json:"Response"`
	}
	if tcjson.Unmarshal([]byte(body), &env) != nil || len(env.Response) == 0 {
		return resp, nil, false
	}
	if json.Unmarshal(env.Response, &resp) != nil {
		return resp, nil, false
	}
	return resp, nil, true
}

// TestClientReadsAnswersAsTheSDKDoes serves the partner API client answers
// of every form, ordinary and odd, and checks that it reads each one as the
// SDK's error check followed by decoding the Response would: the client
// reads an answer in one pass and must not differ.
func TestClientReadsAnswersAsTheSDKDoes(t *testing.T) {
	bodies := []string{
		`{"Response":{"Data":[{"CustomerUin":"1","Email":"a@b.c","HasExpense":1}],"RequestId":"r1"}}`,
		`{"Response":{"Data":[],"RequestId":"r1"}}`,
		`{"Response":{"RequestId":"r1","Data":[{"CustomerUin":"2"}],"Extra":{"x":[1,2]}}}`,
		`{"Response":{"Error":{"Code":"InvalidParameter","Message":"bad"},"RequestId":"r2"}}`,
		`{"Response":{"Error":{"Code":"InternalError","Message":"boom"}}}`,
		`{"Response":{"Error":{"Code":"","Message":"no code"},"Data":[{"CustomerUin":"3"}],"RequestId":"r3"}}`,
		`{"Response":{"Error":{},"Data":[{"CustomerUin":"3"}],"RequestId":"r3"}}`,
		`{"Response":{"Error":null,"Data":[{"CustomerUin":"3"}],"RequestId":"r3"}}`,
		`{"code":4000,"message":"old style","codeDesc":"InvalidParameter"}`,
		`{"Response":{"RequestId":"r4","Data":[]},"code":5,"message":"m","codeDesc":"Old.Code"}`,
		`{"Response":{"RequestId":"r4","Data":[]},"code":0}`,
		`{"Response":{"RequestId":"r4","Data":[]},"code":"5"}`,
		`{"Response":{"RequestId":"r4","Error":{"Code":"A.B","Message":"m"}},"code":"5"}`,
		`{"Response":null}`,
		`{}`,
		`null`, // the SDK's TryReadErr, which the client steers answers past, panics on it
		`[]`,
		`{"Response":{"Data":[{"CustomerUin":"4"}]}}`,
		`{"Response":{}}`,
		`{"Response":{"Data":5,"RequestId":"r5"}}`,
		`{"Response":{"Data":[{"AuthType":"x"}],"RequestId":"r5"}}`,
		`{"Response":{"Error":5,"RequestId":"r6"}}`,
		`{"Response":{"Error":{"Code":7},"RequestId":"r6"}}`,
		`{"Response":{"RequestId":7,"Data":[]}}`,
		`{"Response":5}`,
		`{"Response":"text"}`,
		`{"response":{"requestid":"r7","data":[{"customeruin":"5"}]}}`,
		`{"Response":{"RequestId":"a","RequestId":"b","Data":[{"CustomerUin":"6"}]}}`,
		`{"Response":{"Data":[{"CustomerUin":"7"}],"RequestId":"r8"},"Response":{"RequestId":"r9"}}`,
		`{"Response":{"ERROR":{"code":"Lower.Case","message":"m"},"RequestId":"r10"}}`,
		`{"Response":{"Data":[{"Name":"caf\u00e9 \"q\" \\ <&>"}],"RequestId":"r11"}}`,
		`{"Respons\u0065":{"Data":[{"CustomerUin":"8"}],"RequestId":"r13"}}`,
		`{"Respons\u0065":{"Data":[{"CustomerUin":"8"}],"RequestId":"r13"},"Response":{"Error":{"Code":"E.F"}}}`,
		`{"RESPONSE":{"RequestId":"r14"},"response":{"Data":[{"CustomerUin":"9"}]}}`,
		"{ \"Response\" :\n { \"Data\" : [ { \"Name\" : \"Response\" } ] ,\t\"RequestId\" : \"r15\" } }",
		`{"Response":{"Data":[{"Name":"\"Response\":{","Mark":"\\"}],"RequestId":"r16"},"Other":{"Response":{"Error":{"Code":"N.O"}}}}`,
		`{"Other":["Response",{"Response":1}],"Response":{"Data":[],"RequestId":"r17"}}`,
		`[{"Response":{"RequestId":"r18"}}]`,
		`{"Response":{"Data":[],"RequestId":"r12"}} trailing`,
		`{"Response":{"Data":[],"RequestId":"r12"`,
		`not json`,
		``,
	}
	var body string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer ts.Close()
	c, err := partnerapi.New(partnerapi.Config{
		Credential:      partnerapi.Credential{SecretId: "AKIDanswersanswersanswersanswers1234", SecretKey: "answersanswersanswersanswers1234"},
		Endpoint:        ts.Listener.Addr().String(),
		Scheme:          "http",
		Limiters:        partnerapi.NewLimiters(1e6),
		MaxReadAttempts: 1,
		AttemptTimeout:  5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		body = b
		wantResp, wantAPIErr, wantOK := answerBySDK(b)
		got, err := c.DescribeCustomerInfo(t.Context(), &partnerapi.DescribeCustomerInfoRequest{CustomerUin: []int64{1}})
		var apiErr *partnerapi.APIError
		switch {
		case wantAPIErr != nil:
			if !errors.As(err, &apiErr) || *apiErr != *wantAPIErr {
				t.Errorf("%s: got %v, want the API error %+v", b, err, wantAPIErr)
			}
		case !wantOK:
			if err == nil || errors.As(err, &apiErr) {
				t.Errorf("%s: got %+v, %v; want a failure to read the answer", b, got, err)
			}
		default:
			if err != nil || !reflect.DeepEqual(*got, wantResp) {
				t.Errorf("%s: got %+v, %v; want %+v", b, got, err, wantResp)
			}
		}
	}
}
