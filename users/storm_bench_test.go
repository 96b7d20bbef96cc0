package users

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
)

// peakRSS reads the process's peak resident memory (VmHWM) in bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Skip("VmHWM not reported")
	return 0
}

// BenchmarkSignInStorm signs in 50 people at once with the production
// password hashing cost (64 MiB a hash) and reports the process's peak
// resident memory and how long the storm took. Run it alone, so the peak
// is the storm's:
//
//	go test -run '^$' -bench SignInStorm -benchtime 1x ./users/
func BenchmarkSignInStorm(b *testing.B) {
	const people = 50
	db, err := store.Open(b.Context(), b.TempDir()+"/portal.db", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cheap := New(Options{DB: db, Hasher: auth.NewHasher(auth.HasherOptions{Cost: auth.TestCost})})
	svc := New(Options{DB: db, Hasher: auth.NewHasher(auth.HasherOptions{})})
	passwords := map[string]string{}
	for i := range people {
		u, pw, err := cheap.Create(b.Context(), audit.CommandLine(), Input{Username: fmt.Sprintf("user%02d", i), Role: "staff"})
		if err != nil {
			b.Fatal(err)
		}
		// Give each a production-cost hash, as real accounts have.
		hash, err := svc.hasher.Hash(b.Context(), pw)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Write(b.Context(), func(tx *store.Tx) error { return tx.SetPassword(b.Context(), u.ID, hash, false) }); err != nil {
			b.Fatal(err)
		}
		passwords[u.Username] = pw
	}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		i := 0
		for name, pw := range passwords {
			if i%2 == 1 {
				pw = "wrong-password-1" // half of them mistype
			}
			i++
			wg.Go(func() {
				_, err := svc.SignIn(b.Context(), name, pw, fmt.Sprintf("10.0.%d.1", i))
				if err != nil && err != ErrSignInFailed {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
		b.ReportMetric(time.Since(start).Seconds(), "storm-s")
		b.ReportMetric(float64(failed), "refused-busy")
		b.ReportMetric(float64(svc.hasher.Concurrency()), "hashes-at-once")
	}
}
