package sandbox

import (
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestGCRA(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		perSecond int
		scale     float64
		burst     int // requests accepted at one instant
	}{
		{"5 per second", 5, 1, 5},
		{"1 per second", 1, 1, 1},
		{"20 per second", 20, 1, 20},
		{"scaled by 50", 5, 50, 250},
		{"scaled below one", 1, 0.5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newRateLimiter(tt.scale)
			n := 0
			for l.allow("AKIDa", "X", tt.perSecond, t0) {
				n++
				if n > 10*tt.burst {
					t.Fatal("no limit")
				}
			}
			if n != tt.burst {
				t.Fatalf("burst %d, want %d", n, tt.burst)
			}
			// Rejections consume nothing: one interval later exactly one more passes.
			interval, _ := gcraParams(float64(tt.perSecond) * tt.scale)
			for range 100 {
				if l.allow("AKIDa", "X", tt.perSecond, t0) {
					t.Fatal("accepted while over the limit")
				}
			}
			t1 := t0.Add(interval)
			if !l.allow("AKIDa", "X", tt.perSecond, t1) {
				t.Fatal("rejected one interval later")
			}
			if l.allow("AKIDa", "X", tt.perSecond, t1) {
				t.Fatal("accepted two in one interval")
			}
			// Other credentials and other actions have their own budgets.
			if !l.allow("AKIDb", "X", tt.perSecond, t0) || !l.allow("AKIDa", "Y", tt.perSecond, t0) {
				t.Fatal("budgets are shared")
			}
		})
	}
}

func TestGCRAPacedClientWithJitter(t *testing.T) {
	// A client pacing itself exactly at the limit, whose requests arrive up
	// to T/2 early or late, is never rejected after its first burst.
	l := newRateLimiter(1)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	interval, _ := gcraParams(1)
	for i := range 1000 {
		jitter := time.Duration(0)
		if i%2 == 1 {
			jitter = -interval / 2
		}
		if !l.allow("AKIDa", "X", 1, t0.Add(time.Duration(i)*interval+jitter)) {
			t.Fatalf("request %d rejected", i)
		}
	}
}

// hammer sends signed QueryPartnerCredit requests from goroutines per
// credential for d of fake time and returns how many each credential got
// accepted. It must run inside a synctest bubble.
func hammer(t *testing.T, s *Server, creds []Credential, goroutines int, pause, d time.Duration) []int {
	t.Helper()
	accepted := make([]int, len(creds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i, cred := range creds {
		for range goroutines {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					r := signedCall{Action: "QueryPartnerCredit", SecretId: cred.SecretId, SecretKey: cred.SecretKey, Time: time.Now()}.request()
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, r)
					var a apiAnswer
					if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
						t.Errorf("answer: %v", err)
						return
					}
					switch a.code() {
					case "":
						mu.Lock()
						accepted[i]++
						mu.Unlock()
					case "RequestLimitExceeded":
					default:
						t.Errorf("unexpected %s: %s", a.code(), a.message())
						return
					}
					time.Sleep(pause)
				}
			})
		}
	}
	wg.Wait()
	return accepted
}

func TestRateLimitUnderLoad(t *testing.T) {
	tests := []struct {
		name       string
		scale      float64
		creds      int
		goroutines int
		pause      time.Duration
		duration   time.Duration
	}{
		{"one credential, one minute", 1, 1, 4, 20 * time.Millisecond, time.Minute},
		{"two credentials have their own budgets", 1, 2, 3, 25 * time.Millisecond, time.Minute},
		{"RateScale 50", 50, 1, 3, 2 * time.Millisecond, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newTestServer(t, time.Now, tt.scale)
				creds := []Credential{credentialFor(t, s, "distributor", 0), credentialFor(t, s, "subagent", 0)}[:tt.creds]
				accepted := hammer(t, s, creds, tt.goroutines, tt.pause, tt.duration)
				limit := 5 * tt.scale // QueryPartnerCredit is documented at 5 per second
				most := limit*tt.duration.Seconds() + limit
				for i, n := range accepted {
					if float64(n) > most || float64(n) < 0.9*most {
						t.Errorf("credential %d: %d accepted, want between %.0f and %.0f", i, n, 0.9*most, most)
					}
				}
				if got, want := s.Requests("QueryPartnerCredit"), sum(accepted); got <= want {
					t.Errorf("Requests = %d, want more than the %d accepted (rejections count too)", got, want)
				}
			})
		})
	}
}

func sum(ns []int) int {
	total := 0
	for _, n := range ns {
		total += n
	}
	return total
}
