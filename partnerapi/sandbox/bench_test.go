package sandbox

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// benchCustomers is the world size of the per-call benchmarks: the
// directory refresh benchmark's (jobs.BenchmarkDirectoryRefresh).
const benchCustomers = 20000

// benchCalls pre-signs one request per body, so that the loop measures the
// server's work and not the test's signing.
type benchCalls struct {
	bodies  []string
	headers []http.Header
	host    string
}

func newBenchCalls(b *testing.B, s *Server, action string, bodies []string) *benchCalls {
	b.Helper()
	dist := credentialFor(b, s, "distributor", 0)
	bc := &benchCalls{bodies: bodies}
	for _, body := range bodies {
		r := signedCall{Action: action, Body: body, SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}.request()
		bc.headers = append(bc.headers, r.Header)
		bc.host = r.Host
	}
	return bc
}

// run serves call i (modulo the number of bodies) and fails on an error
// answer.
func (bc *benchCalls) run(b *testing.B, s *Server, i int) {
	k := i % len(bc.bodies)
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(bc.bodies[k]))
	r.Host = bc.host
	r.Header = bc.headers[k].Clone()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"Error"`)) {
		b.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
}

func newBenchServer(b *testing.B) *Server {
	b.Helper()
	clock := &fakeClock{t: testNow}
	s, err := New(Options{Seed: 1, Customers: benchCustomers, RateScale: 1e9, Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkServeDescribeCustomerInfo serves DescribeCustomerInfo calls of
// 20 UINs, walking the distributor's customers as the directory refresh
// does, through the whole HTTP handler (signature, validation, the World,
// encoding). "first" forgets what the World worked out about each customer
// (whether it has spent anything) before every walk, as in a first refresh;
// "again" keeps it, as in later ones.
//
//	go test -run '^$' -bench ServeDescribeCustomerInfo ./partnerapi/sandbox/
func BenchmarkServeDescribeCustomerInfo(b *testing.B) {
	for _, first := range []bool{true, false} {
		name := "again"
		if first {
			name = "first"
		}
		b.Run(name, func(b *testing.B) {
			s := newBenchServer(b)
			uins := s.world.distributor.customers
			var bodies []string
			for lo := 0; lo+20 <= len(uins); lo += 20 {
				var sb strings.Builder
				sb.WriteString(`{"CustomerUin":[`)
				for i, uin := range uins[lo : lo+20] {
					if i > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(strconv.FormatUint(uin, 10))
				}
				sb.WriteString(`]}`)
				bodies = append(bodies, sb.String())
			}
			calls := newBenchCalls(b, s, "DescribeCustomerInfo", bodies)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if first && i%len(bodies) == 0 {
					b.StopTimer()
					for _, cu := range s.world.customers {
						cu.expense.Store(0)
					}
					b.StartTimer()
				}
				calls.run(b, s, i)
				i++
			}
		})
	}
}

// BenchmarkServeQueryCustomersCredit serves QueryCustomersCredit pages of
// 100, oldest binding first, walking every page as the directory refresh
// does.
//
//	go test -run '^$' -bench ServeQueryCustomersCredit ./partnerapi/sandbox/
func BenchmarkServeQueryCustomersCredit(b *testing.B) {
	s := newBenchServer(b)
	var bodies []string
	for page := 1; page <= benchCustomers/100; page++ {
		bodies = append(bodies, `{"Page":`+strconv.Itoa(page)+`,"PageSize":100,"Order":"asc"}`)
	}
	calls := newBenchCalls(b, s, "QueryCustomersCredit", bodies)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		calls.run(b, s, i)
		i++
	}
}

// BenchmarkClientRoundTrip calls the sandbox over loopback HTTP through the
// partner API client, as the directory refresh does: the cost of one call
// on both sides (the client's encoding, signing and decoding through the
// SDK, the transport, the server).
//
//	go test -run '^$' -bench ClientRoundTrip ./partnerapi/sandbox/
func BenchmarkClientRoundTrip(b *testing.B) {
	s := newBenchServer(b)
	s.now = time.Now // the client signs with the real time
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := partnerapi.New(partnerapi.Config{
		Credential: s.DemoDistributor().Credential,
		Endpoint:   ts.Listener.Addr().String(),
		Scheme:     "http",
		Limiters:   partnerapi.NewLimiters(1e9),
	})
	if err != nil {
		b.Fatal(err)
	}
	uins := s.world.distributor.customers
	b.Run("DescribeCustomerInfo", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			lo := (i * 20) % (len(uins) - 20)
			batch := make([]int64, 20)
			for k, uin := range uins[lo : lo+20] {
				batch[k] = int64(uin)
			}
			if _, err := c.DescribeCustomerInfo(b.Context(), &partnerapi.DescribeCustomerInfoRequest{CustomerUin: batch}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("QueryCustomersCredit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			page := int64(1 + i%(len(uins)/100))
			if _, err := c.QueryCustomersCredit(b.Context(), &partnerapi.QueryCustomersCreditRequest{Page: page, PageSize: 100, Order: "asc"}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
