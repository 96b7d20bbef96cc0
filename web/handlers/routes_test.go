package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"resellerportal/store"
)

// access says who may use a route: everyone (public), or these roles.
type access struct {
	public bool
	roles  []string
}

var (
	public   = access{public: true}
	everyone = access{roles: []string{"admin", "staff", "finance", "subagent"}}
	admins   = access{roles: []string{"admin"}}
	auditors = access{roles: []string{"admin", "finance"}}
	viewers  = access{roles: []string{"admin", "staff", "finance"}}
	workers  = access{roles: []string{"admin", "staff"}}
	// writers change customers: the partner's people and a reseller's login.
	writers = access{roles: []string{"admin", "staff", "subagent"}}
)

// routeAccess is the whole permission table; TestEveryRouteEveryRole fails
// when a route exists that is not listed here.
var routeAccess = map[string]access{
	"GET /healthz":                              public,
	"GET /static/*":                             public,
	"GET /metrics":                              public, // from this machine; see TestMetricsAccess
	"GET /login":                                public,
	"POST /login":                               public,
	"POST /logout":                              public,
	"POST /language":                            public,
	"GET /":                                     everyone,
	"GET /dashboard/cards":                      everyone,
	"GET /account":                              everyone,
	"POST /account/password":                    everyone,
	"POST /account/time-zone":                   everyone,
	"POST /account/sessions/{sid}/end":          everyone,
	"GET /audit":                                auditors,
	"GET /audit/{id}":                           auditors,
	"GET /audit.csv":                            auditors,
	"GET /credit/":                              everyone,
	"GET /credit/ledger":                        everyone,
	"GET /credit/ledger.csv":                    everyone,
	"GET /credit/ledger.xlsx":                   everyone,
	"GET /credit/allocations/{id}":              everyone,
	"POST /credit/allocations/{id}/check":       writers,
	"POST /credit/allocations/{id}/resolve":     admins,
	"GET /credit/{uin}/allocate":                writers,
	"GET /credit/bulk":                          writers,
	"POST /credit/bulk":                         writers,
	"POST /credit/bulk/select":                  writers,
	"GET /credit/bulk/{id}":                     writers,
	"POST /credit/bulk/{id}/confirm":            writers,
	"GET /credit/bulk/{id}/result.csv":          writers,
	"GET /credit/bulk/{id}/result.xlsx":         writers,
	"POST /credit/{uin}/allocate":               writers,
	"GET /credit/{uin}/watch":                   everyone, // a reseller's login: its own customers only (404 otherwise)
	"POST /credit/{uin}/watch":                  writers,
	"GET /approvals/":                           writers,
	"GET /approvals/{id}":                       writers,
	"POST /approvals/{id}/approve":              writers,
	"POST /approvals/{id}/reject":               writers,
	"GET /admin/four-eyes":                      admins,
	"POST /admin/four-eyes":                     admins,
	"GET /bills/":                               everyone,
	"GET /bills/progress":                       everyone,
	"POST /bills/refresh":                       workers,
	"GET /bills/{uin}":                          everyone,
	"GET /bills/{uin}/{month}":                  everyone,
	"GET /bills/{uin}/{month}.csv":              everyone,
	"GET /bills/{uin}/{month}.xlsx":             everyone,
	"GET /bills.csv":                            everyone,
	"GET /bills.xlsx":                           everyone,
	"GET /vouchers":                             everyone,
	"GET /vouchers.csv":                         everyone,
	"GET /vouchers.xlsx":                        everyone,
	"GET /vouchers/{uin}/{id}":                  everyone,
	"GET /vouchers/{uin}/{id}/export":           everyone,
	"GET /bills/files":                          everyone,
	"POST /bills/files":                         everyone,
	"GET /bills/files/{id}":                     everyone,
	"GET /commission":                           viewers,
	"GET /commission/export":                    viewers,
	"POST /commission/file":                     viewers,
	"GET /commission/files/{id}":                viewers,
	"GET /customers/":                           everyone,
	"GET /customers.csv":                        everyone,
	"POST /customers/refresh":                   workers,
	"GET /customers/{uin}":                      everyone,
	"GET /customers/{uin}/details":              everyone,
	"POST /customers/{uin}/refresh":             everyone,
	"GET /customers/{uin}/writes/{id}":          everyone,
	"GET /customers/{uin}/own":                  everyone,
	"POST /customers/{uin}/own/file":            everyone,
	"GET /customers/{uin}/remark":               writers,
	"POST /customers/{uin}/remark":              writers,
	"GET /customers/{uin}/suspend":              writers,
	"POST /customers/{uin}/suspend":             writers,
	"GET /customers/{uin}/restore":              writers,
	"POST /customers/{uin}/restore":             writers,
	"POST /customers/{uin}/writes/{id}/check":   writers,
	"GET /applications/":                        writers,
	"POST /applications/decide":                 writers,
	"POST /applications/bulk":                   writers,
	"GET /applications/decisions/{id}":          writers,
	"POST /applications/decisions/{id}/check":   writers,
	"GET /onboarding/":                          writers,
	"GET /onboarding/invitations":               writers,
	"POST /onboarding/invitations":              writers,
	"POST /onboarding/invitations/refresh":      writers,
	"POST /onboarding/invitations/{id}/resend":  writers,
	"GET /onboarding/accounts/new":              writers,
	"POST /onboarding/accounts":                 writers,
	"POST /onboarding/accounts/choose":          writers,
	"GET /onboarding/accounts/industries":       writers,
	"POST /onboarding/accounts/code":            writers,
	"GET /onboarding/accounts/created/{id}":     writers,
	"GET /sandbox/outbox":                       writers, // 404 unless the target is the built-in sandbox
	"POST /sandbox/outbox/accept":               writers,
	"GET /resellers/":                           workers,
	"GET /resellers/{uin}":                      workers,
	"GET /resellers/{uin}/pool":                 workers,
	"POST /resellers/{uin}/pool":                workers,
	"GET /jobs/":                                everyone,
	"GET /jobs/list":                            everyone,
	"POST /jobs/directory":                      workers,
	"POST /jobs/bills":                          workers,
	"GET /jobs/{id}":                            everyone,
	"GET /jobs/{id}/progress":                   everyone,
	"POST /jobs/{id}/cancel":                    everyone,
	"POST /jobs/{id}/rest":                      workers,
	"GET /admin/api-status":                     admins,
	"GET /admin/api-status/table":               admins,
	"GET /admin/users/":                         admins,
	"POST /admin/users/":                        admins,
	"GET /admin/users/{id}":                     admins,
	"POST /admin/users/{id}":                    admins,
	"POST /admin/users/{id}/password":           admins,
	"POST /admin/users/{id}/disable":            admins,
	"POST /admin/users/{id}/enable":             admins,
	"POST /admin/users/{id}/sessions/{sid}/end": admins,
	"GET /admin/credentials/":                   admins,
	"POST /admin/credentials/":                  admins,
	"POST /admin/credentials/target":            admins,
	"POST /admin/credentials/{id}/delete":       admins,
	"POST /admin/credentials/{id}/test":         admins,
}

func TestEveryRouteEveryRole(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	victim, err := store.WriteReturning(ctx, p.db, func(tx *store.Tx) (store.User, error) {
		return tx.CreateUser(ctx, store.User{Username: "victim", Role: "staff", PasswordHash: p.users["staff"].PasswordHash})
	})
	if err != nil {
		t.Fatal(err)
	}
	var cred store.APICredential
	err = p.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		cred, err = tx.SaveCredential(ctx, store.APICredential{Target: store.TargetSandbox, Kind: "subagent", SubagentUin: p.subUin,
			SecretId: "AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", SecretKeyCipher: []byte("sealed")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	routes := walkRoutes(t, p)
	for _, r := range routes {
		if _, ok := routeAccess[r]; !ok {
			t.Errorf("route %s is not in the access table", r)
		}
	}
	for r := range routeAccess {
		if !slices.Contains(routes, r) {
			t.Errorf("the access table lists %s, which is not a route", r)
		}
	}

	clients := map[string]*http.Client{"anonymous": p.browser()}
	for role := range p.users {
		clients[role] = p.login(role)
	}
	fill := strings.NewReplacer("{id}", strconv.FormatInt(victim.ID, 10), "{sid}", strings.Repeat("0", 64), "*", "app.css",
		"{uin}", strconv.FormatUint(p.directCustomers(1)[0], 10), "{month}", time.Now().UTC().Format("2006-01"))
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		path := fill.Replace(pattern)
		if strings.HasPrefix(pattern, "/admin/credentials/{id}") {
			path = strings.Replace(pattern, "{id}", strconv.FormatInt(cred.ID, 10), 1)
		}
		for who := range clients {
			t.Run(fmt.Sprintf("%s as %s", route, who), func(t *testing.T) {
				c := clients[who]
				if route == "POST /logout" && who != "anonymous" {
					c = p.login(who) // a session of its own, so the others stay signed in
				}
				var resp response
				if method == http.MethodGet {
					resp = p.get(c, path)
				} else {
					resp = p.post(c, path, url.Values{"lang": {"en"}})
				}
				a := routeAccess[route]
				toLogin := resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login")
				switch {
				case a.public:
					if resp.StatusCode == http.StatusForbidden || (toLogin && route != "POST /logout") {
						t.Fatalf("public route refused: %d %s", resp.StatusCode, resp.Header.Get("Location"))
					}
				case who == "anonymous":
					if !toLogin {
						t.Fatalf("anonymous got %d, want a redirect to /login", resp.StatusCode)
					}
				case slices.Contains(a.roles, who):
					if resp.StatusCode == http.StatusForbidden || toLogin || resp.StatusCode >= 500 {
						t.Fatalf("%s refused or failed: %d", who, resp.StatusCode)
					}
				default:
					if resp.StatusCode != http.StatusForbidden {
						t.Fatalf("%s got %d, want 403", who, resp.StatusCode)
					}
					if len(byTestID(t, resp.Body, "error-403")) != 1 {
						t.Fatalf("the refusal is not the 403 page")
					}
				}
			})
		}
	}
}

func walkRoutes(t *testing.T, p *portal) []string {
	t.Helper()
	var out []string
	router := routerOf(t, p)
	err := chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func routerOf(t *testing.T, p *portal) chi.Routes {
	t.Helper()
	r, ok := p.routes.(chi.Routes)
	if !ok {
		t.Fatal("Routes() is not a chi router")
	}
	return r
}
