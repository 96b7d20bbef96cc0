package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// TestSuccessBodyMatchesMapEncoding checks that successBody's splitting of
// the encoded object gives byte for byte what decoding it into a map and
// encoding the map gives: members sorted, RequestId replaced or added.
func TestSuccessBodyMatchesMapEncoding(t *testing.T) {
	type nested struct {
		B string            `json:"B"`
		A []any             `json:"A"`
		M map[string]string `json:"M"`
	}
	type noRequestID struct {
		Zeta  int    `json:"Zeta"`
		Alpha string `json:"Alpha"`
		N     nested `json:"N"`
	}
	for name, resp := range map[string]any{
		"nil pointer":   (*partnerapi.ForceQNResponse)(nil),
		"only id":       &partnerapi.ForceQNResponse{RequestId: "old"},
		"empty struct":  struct{}{},
		"no RequestId":  noRequestID{Zeta: 1, Alpha: `a "quoted" <b> & \ , } ] { [`, N: nested{B: `}\\`, A: []any{"]", `\"`, 1.5, nil, true, map[string]any{"x": "{"}}, M: map[string]string{"k,": "v:"}}},
		"empty members": noRequestID{},
		"customers": &partnerapi.QueryCustomersCreditResponse{Total: 2, RequestId: "x", Data: []partnerapi.QueryCustomersCreditData{
			{Name: "Ann <Lee>", Email: "a***@x.com", Credit: partnerapi.MustAmount("12.5")},
			{Name: "Bob & Co", Remark: "line\nbreak \u2028"},
		}},
		"map": map[string]any{"b": 1, "a": []int{1, 2}, "RequestId": "old"},
	} {
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := successBodyByMap("id-1", raw, resp)
			got, gotErr := successBody("id-1", resp)
			if raw := string(raw); raw == "null" {
				want, wantErr = []byte(`{"Response":{"RequestId":"id-1"}}`), nil
			}
			if (gotErr != nil) != (wantErr != nil) || string(got) != string(want) {
				t.Errorf("successBody = %s, %v\nwant           %s, %v", got, gotErr, want, wantErr)
			}
		})
	}
	if _, err := successBody("id", []int{1}); err == nil {
		t.Error("successBody of a list: no error")
	}
}

func TestSplitObjectRefusesWhatItCannotSort(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `{"a\"b":1}`, `{"a":}`, `{"a":1`, `{"a":1}x`, `{"a":1,}`} {
		if _, ok := splitObject([]byte(in)); ok {
			t.Errorf("splitObject(%q) accepted", in)
		}
	}
}

func TestAPITimeMatchesFormat(t *testing.T) {
	times := []time.Time{
		time.Date(2025, 7, 15, 2, 30, 0, 0, time.UTC),
		time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), // the next year in UTC+8
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(999, 3, 4, 5, 6, 7, 0, apiZone),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, apiZone),
		time.Date(10000, 1, 1, 0, 0, 0, 0, apiZone),
		time.Date(-5, 1, 1, 0, 0, 0, 0, apiZone),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(1<<34), r.Int64N(1e9)))
	}
	for _, tm := range times {
		if got, want := apiTime(tm), tm.In(apiZone).Format(apiTimeLayout); got != want {
			t.Errorf("apiTime(%v) = %q, want %q", tm, got, want)
		}
	}
	if apiTime(time.Time{}) != "" {
		t.Error("the zero time is not empty")
	}
}
