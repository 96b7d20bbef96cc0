package partnerapi

import (
	"encoding/json"
	"testing"
)

func TestAmountJSON(t *testing.T) {
	cases := []struct {
		in, want string
		wantErr  bool
	}{
		{in: `234.5464`, want: `234.5464`},
		{in: `0.1`, want: `0.1`},
		{in: `"100.00000000"`, want: `100`},
		{in: `-12.3456789`, want: `-12.3456789`},
		{in: `123456789012345.12345678`, want: `123456789012345.12345678`},
		{in: `1e3`, want: `1000`},
		{in: `null`, want: `0`},
		{in: `"abc"`, wantErr: true},
		{in: `true`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var a Amount
			err := json.Unmarshal([]byte(tc.in), &a)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("decoded %s into %s", tc.in, a)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("round trip of %s gave %s, want %s", tc.in, out, tc.want)
			}
		})
	}
}

func TestAmountSumIsExact(t *testing.T) {
	var sum Amount
	for range 3 {
		sum = AmountFromDecimal(sum.Decimal().Add(MustAmount("0.1").Decimal()))
	}
	if sum.String() != "0.3" {
		t.Fatalf("0.1 three times is %s", sum)
	}
}
