package jobs_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// put stores customers as they stood before a test's refresh.
func (r *rig) put(cs ...store.Customer) {
	r.t.Helper()
	if err := r.db.Write(r.t.Context(), func(tx *store.Tx) error {
		for _, c := range cs {
			if err := tx.UpsertCustomer(r.t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
}

// TestDirectoryRefreshForgetsLeavers checks that a refresh that has read
// every page deletes the customers it did not see, and that any other
// refresh deletes nothing.
func TestDirectoryRefreshForgetsLeavers(t *testing.T) {
	const left = 42 // a UIN no longer the partner's customer
	tests := []struct {
		name     string
		prepare  func(r *rig)
		start    func(r *rig, e *jobs.Engine) int64
		wantGone bool
	}{
		{"a complete refresh", nil, startDirectory, true},
		{"a page failed", func(r *rig) {
			r.sb.InjectFault(sandbox.Fault{Action: partnerapi.ActionQueryT1IndirectCustomersDetail, Code: "FailedOperation"})
		}, startDirectory, false},
		{"a refresh of some pages only, such as the rest of a cancelled one", nil, func(r *rig, e *jobs.Engine) int64 {
			payload, _ := json.Marshal(map[string]int64{"Page": 1})
			j, err := e.Submit(r.t.Context(), jobs.KindDirectory, r.owner, "the rest", nil, []jobs.Item{{Key: "page 1", Payload: payload, Units: 100}})
			if err != nil {
				r.t.Fatal(err)
			}
			return j.ID
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRigWith(t, rigOptions{customers: 130, scale: 1000})
			ctx := t.Context()
			cs := r.customers()
			oldest := cs[len(cs)-1] // on the first page, in binding order
			// What an earlier refresh stored: a customer since gone, and a
			// customer as it was, with what only the portal knows.
			r.put(store.Customer{Uin: left, Name: "Gone Ltd", FetchedAt: time.Now().Add(-time.Hour)},
				store.Customer{Uin: oldest.ClientUin, Name: "Old Name", Country: "65", SpendMonth: "2020-01", Spend: "3",
					FetchedAt: time.Now().Add(-time.Hour)})
			if tt.prepare != nil {
				tt.prepare(r)
			}
			e := r.engine()
			r.start(e)
			j := r.waitFor(e, tt.start(r, e), "an end", ended)
			if j.Status != store.JobDone {
				t.Fatalf("directory job %s: %s", j.Status, j.Error)
			}
			_, err := r.db.CustomerByUin(ctx, left)
			if gone := errors.Is(err, store.ErrNotFound); gone != tt.wantGone {
				t.Errorf("the customer that left: gone %v (%v), want gone %v", gone, err, tt.wantGone)
			}
			kept, err := r.db.CustomerByUin(ctx, oldest.ClientUin)
			if err != nil || kept.Name != oldest.Name || kept.Country != "65" || kept.Spend != "3" {
				t.Errorf("refreshed customer %+v, %v; want the listed name, the country and spend kept", kept, err)
			}
		})
	}
}

func startDirectory(r *rig, e *jobs.Engine) int64 {
	r.t.Helper()
	j, _, err := jobs.NewService(r.db, e, nil).StartDirectoryRefresh(r.t.Context(), r.actor())
	if err != nil {
		r.t.Fatal(err)
	}
	return j.ID
}

// TestDirectoryLastPageReadsOn checks that an item reads its pages, and the
// one with a list's last planned page the pages the list has grown by since
// planning.
func TestDirectoryLastPageReadsOn(t *testing.T) {
	r := newRigWith(t, rigOptions{customers: 250, scale: 1000})
	tests := []struct {
		name string
		page map[string]any
		want int
	}{
		{"a page", map[string]any{"Page": 2}, 100},
		{"pages", map[string]any{"Page": 1, "Pages": 2}, 200},
		{"the last planned page, the list longer", map[string]any{"Page": 2, "Last": true}, 150},
		{"the last planned pages, the list longer", map[string]any{"Page": 1, "Pages": 2, "Last": true}, 250},
		{"the last pages, the list as planned", map[string]any{"Page": 2, "Pages": 2, "Last": true}, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, _ := json.Marshal(tt.page)
			res, err := jobs.DirectoryRefresh{}.Do(t.Context(), r.client, store.Job{}, store.JobItem{Payload: payload})
			if err != nil {
				t.Fatal(err)
			}
			var summary map[string]int
			if err := json.Unmarshal(res.Summary, &summary); err != nil || summary["customers"] != tt.want {
				t.Errorf("summary %s, %v; want %d customers", res.Summary, err, tt.want)
			}
		})
	}
}

// TestDirectoryPlanForAReseller plans a directory with a second-level
// reseller's key, which may not list resellers: it plans none of theirs.
func TestDirectoryPlanForAReseller(t *testing.T) {
	r := newRig(t)
	sub, err := partnerapi.New(partnerapi.Config{Credential: r.sb.DemoSubAgent().Credential, Endpoint: r.addr, Scheme: "http",
		Limiters: partnerapi.NewLimiters(r.scale)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = jobs.DirectoryRefresh{}.Plan(t.Context(), sub, store.Job{}, "pages", func(items []jobs.Item, next string) error {
		got = append(got, strconv.Itoa(len(items))+" "+next)
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"0 resellers"}) {
		t.Errorf("Plan = %v, %v; want no items and planning complete", got, err)
	}
}

func TestRefreshCustomer(t *testing.T) {
	r := newRigWith(t, rigOptions{customers: 30, scale: 1000})
	ctx := t.Context()
	cs, indirect := r.customers(), r.indirect()
	var someIndirect, otherIndirect uint64
	for uin := range indirect {
		if someIndirect == 0 {
			someIndirect = uin
		} else if otherIndirect == 0 && indirect[uin] != indirect[someIndirect] {
			otherIndirect = uin
		}
	}
	direct := cs[3].ClientUin
	if _, err := r.client.ModifyClientRemark(ctx, &partnerapi.ModifyClientRemarkRequest{ClientUin: strconv.FormatUint(direct, 10), Remark: "moved to APAC"}); err != nil {
		t.Fatal(err)
	}
	r.put(store.Customer{Uin: direct, Name: cs[3].Name, Remark: "old remark", Country: "852"},
		store.Customer{Uin: someIndirect, Name: "stale", ResellerUin: indirect[someIndirect]},
		store.Customer{Uin: 12345, Name: "no longer a customer"})

	tests := []struct {
		name   string
		uin    uint64
		check  func(store.Customer) bool
		wantNF bool
	}{
		{"a direct customer, read again", direct, func(c store.Customer) bool {
			return c.Remark == "moved to APAC" && c.Country == "852" && c.AccountStatus != "" && c.ResellerUin == 0
		}, false},
		{"an indirect customer the table knows", someIndirect, func(c store.Customer) bool {
			return c.ResellerUin == indirect[someIndirect] && c.Name != "stale"
		}, false},
		{"an indirect customer the table does not know", otherIndirect, func(c store.Customer) bool {
			return c.ResellerUin == indirect[otherIndirect] && c.Name != ""
		}, false},
		{"a customer no longer the partner's", 12345, nil, true},
		{"a UIN never a customer", 99, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jobs.RefreshCustomer(ctx, r.client, r.db, tt.uin)
			if tt.wantNF {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("RefreshCustomer = %+v, %v; want ErrNotFound", got, err)
				}
				if _, err := r.db.CustomerByUin(ctx, tt.uin); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the table still has %d: %v", tt.uin, err)
				}
				return
			}
			if err != nil || got.Uin != tt.uin || !tt.check(got) {
				t.Fatalf("RefreshCustomer = %+v, %v", got, err)
			}
			if stored, err := r.db.CustomerByUin(ctx, tt.uin); err != nil || stored != got {
				t.Errorf("stored %+v, %v; want what RefreshCustomer answered", stored, err)
			}
		})
	}
}
