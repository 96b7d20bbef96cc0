package partnerapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// cannedTransport answers every request with the same success body, so a
// benchmark through it measures the client's own work: encoding, signing
// and decoding.
type cannedTransport struct{ body string }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(strings.NewReader(c.body)),
		Request:    r,
	}, nil
}

func BenchmarkClientSignAndDecode(b *testing.B) {
	c, err := partnerapi.New(partnerapi.Config{
		Credential: partnerapi.Credential{SecretId: "AKIDbenchbenchbenchbenchbenchbench12", SecretKey: "benchbenchbenchbenchbenchbench12"},
		Limiters:   partnerapi.NewLimiters(1e9),
		Transport: cannedTransport{`{"Response":{"AllocatedCredit":1200.5,"TotalCredit":50000,"RemainingCredit":48799.5,` +
			`"CustomerTotalCredit":1200.5,"CustomerRemainingCredit":1000.25,"RequestId":"6a1f0c3e-0000-4000-8000-000000000000"}}`},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.QueryPartnerCredit(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientSandboxRoundTrip(b *testing.B) {
	srv, err := sandbox.New(sandbox.Options{Seed: 1, RateScale: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := partnerapi.New(partnerapi.Config{
		Credential: srv.DemoDistributor().Credential,
		Endpoint:   ts.Listener.Addr().String(),
		Scheme:     "http",
		Limiters:   partnerapi.NewLimiters(1e6),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.QueryPartnerCredit(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
