package handlers_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// resellerCustomers lists a second-level reseller's customers the table
// holds (fillCustomers first).
func (p *portal) resellerCustomers(reseller uint64) []uint64 {
	p.t.Helper()
	list, _, err := p.db.SearchCustomers(p.t.Context(), store.CustomerQuery{ResellerUin: &reseller, Sort: "uin", Limit: 100})
	if err != nil {
		p.t.Fatal(err)
	}
	var out []uint64
	for _, c := range list {
		out = append(out, c.Uin)
	}
	if len(out) == 0 {
		p.t.Fatalf("reseller %d has no customers in the table", reseller)
	}
	return out
}

// voucherRows reads the list's rows: voucher id → customer UIN.
func voucherRows(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, row := range byTestID(t, body, "voucher-row") {
		out[attr(row, "data-id")] = attr(row, "data-uin")
	}
	return out
}

func TestVouchersListAndFilters(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	staff := p.login("staff")

	r := p.get(staff, "/vouchers")
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "voucher-pool-total")) != 1 {
		t.Fatalf("status %d, pool %d", r.StatusCode, len(byTestID(t, r.Body, "voucher-pool-total")))
	}
	all := voucherRows(t, r.Body)
	if len(all) == 0 {
		t.Fatal("no vouchers listed")
	}
	if n := len(byTestID(t, r.Body, "voucher-row")); n > 20 {
		t.Errorf("%d rows on a page of 20", n)
	}

	tests := []struct {
		name, query string
		status      int
		errField    string // the field the page names as wrong, if any
	}{
		{"status filter", "?status=Used", http.StatusOK, ""},
		{"every filter", "?status=Issued&payment_mode=AllPayment&usage=CustomerOffer&scope=AllProducts", http.StatusOK, ""},
		{"unknown status", "?status=Stolen", http.StatusUnprocessableEntity, "status"},
		{"unknown payment mode", "?payment_mode=cash", http.StatusUnprocessableEntity, "payment_mode"},
		{"page zero", "?page=0", http.StatusUnprocessableEntity, ""},
		{"page text", "?page=two", http.StatusUnprocessableEntity, ""},
		{"customer not digits", "?customer=12a", http.StatusUnprocessableEntity, "customer"},
		{"customer nobody has", "?customer=999999999999", http.StatusUnprocessableEntity, "customer"},
		{"past the last page", "?page=4000", http.StatusOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.get(staff, "/vouchers"+tc.query)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.status)
			}
			if tc.status != http.StatusOK {
				if len(byTestID(t, r.Body, "voucher-filter-problem")) != 1 {
					t.Error("the page does not say what is wrong")
				}
				if tc.errField != "" && fieldError(t, r.Body, tc.errField) == "" {
					t.Errorf("no message beside %s", tc.errField)
				}
				if len(byTestID(t, r.Body, "voucher-row")) != 0 {
					t.Error("a refused filter still lists vouchers")
				}
			}
			if tc.name == "status filter" {
				for _, row := range byTestID(t, r.Body, "voucher-row") {
					if attr(row, "data-status") != "vouchers.status_Used" {
						t.Errorf("voucher %s is %s", attr(row, "data-id"), attr(row, "data-status"))
					}
				}
			}
			if tc.name == "past the last page" && len(byTestID(t, r.Body, "vouchers-none")) != 1 {
				t.Error("an empty page does not say so")
			}
		})
	}

	t.Run("one customer", func(t *testing.T) {
		var uin string
		for _, u := range all {
			uin = u
			break
		}
		r := p.get(staff, "/vouchers?customer="+uin)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status %d", r.StatusCode)
		}
		rows := voucherRows(t, r.Body)
		if len(rows) == 0 {
			t.Fatal("the customer's vouchers are not listed")
		}
		for id, u := range rows {
			if u != uin {
				t.Errorf("voucher %s of %s listed for %s", id, u, uin)
			}
		}
		// Its usage page.
		for id := range rows {
			r := p.get(staff, "/vouchers/"+uin+"/"+id)
			if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "usage-total")) != 1 {
				t.Fatalf("usage of %s: status %d", id, r.StatusCode)
			}
			// Its usage as a file.
			if links := byTestID(t, r.Body, "usage-csv"); len(links) == 1 {
				f := p.get(staff, attr(links[0], "href"))
				records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(f.Body, "\uFEFF"))).ReadAll()
				if f.StatusCode != http.StatusOK || err != nil || len(records) != len(byTestID(t, r.Body, "usage-row"))+1 || records[0][0] != "id" {
					t.Errorf("usage export: status %d, %d records, %v", f.StatusCode, len(records), err)
				}
				if rows := p.auditRows("vouchers.export"); len(rows) == 0 || rows[0].Params["table"] != "usage" {
					t.Errorf("usage export audit %+v", rows)
				}
			} else if len(byTestID(t, r.Body, "usage-row")) > 0 {
				t.Error("a usage table without its export")
			}
			if f := p.get(staff, "/vouchers/"+uin+"/"+id+"/export?format=pdf"); f.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("a PDF export: status %d", f.StatusCode)
			}
			r = p.get(staff, "/vouchers/"+uin+"/"+id+"?month=2025-13")
			if r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, "month") == "" {
				t.Errorf("a bad month: status %d", r.StatusCode)
			}
			break
		}
	})

	t.Run("API error in words", func(t *testing.T) {
		p.sandbox.InjectFault(sandbox.Fault{Action: "DescribeCustomerVoucherList", Code: "InternalError", Count: 10})
		defer p.sandbox.ClearFaults()
		r := p.get(staff, "/vouchers?status=Expired&payment_mode=Prepaid")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status %d", r.StatusCode)
		}
		if len(byTestID(t, r.Body, "api-problem")) == 0 || len(byTestID(t, r.Body, "api-request-id")) == 0 {
			t.Error("the API's failure is not told with its RequestId")
		}
	})
}

// TestVouchersFailingReadIsNotAskedForever: a read that keeps failing is
// shown with its problem; the background refresh does not ask again.
func TestVouchersFailingReadIsNotAskedForever(t *testing.T) {
	p := newPortal(t)
	staff := p.login("staff")
	p.sandbox.InjectFault(sandbox.Fault{Action: "QueryVoucherPool", Code: "InternalError", Count: 100})
	defer p.sandbox.ClearFaults()
	first := p.get(staff, "/vouchers")
	if len(byTestID(t, first.Body, "vouchers-stale")) != 1 {
		t.Fatal("a page with a failed read does not refresh it in the background")
	}
	again := p.htmx(staff, http.MethodGet, "/vouchers?fresh=1", nil)
	if len(byTestID(t, again.Body, "api-problem")) == 0 {
		t.Error("the pool's failure is not told")
	}
	if len(byTestID(t, again.Body, "vouchers-stale")) != 0 {
		t.Error("the background answer asks again for a read that failed")
	}
}

func TestVouchersOfAResellersLogin(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	sub := p.login("subagent")
	direct := p.directCustomers(1)[0]

	// Without its own key, the page says why nothing is shown.
	r := p.get(sub, "/vouchers")
	if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "api-note")) == 0 || len(byTestID(t, r.Body, "voucher-row")) != 0 {
		t.Fatalf("without a key: status %d", r.StatusCode)
	}

	p.saveSubagentKey()
	own := p.resellerCustomers(p.subUin)
	r = p.get(sub, "/vouchers")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	for id, uin := range voucherRows(t, r.Body) {
		n, _ := strconv.ParseUint(uin, 10, 64)
		if !slices.Contains(own, n) {
			t.Errorf("voucher %s of %s is not the reseller's customers'", id, uin)
		}
	}
	// URL edits: another's customer as the filter, its usage, its export.
	d := strconv.FormatUint(direct, 10)
	if r := p.get(sub, "/vouchers?customer="+d); r.StatusCode != http.StatusUnprocessableEntity || fieldError(t, r.Body, "customer") == "" {
		t.Errorf("a direct customer as the filter: status %d", r.StatusCode)
	}
	if r := p.get(sub, "/vouchers/"+d+"/1"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a direct customer's voucher usage: status %d", r.StatusCode)
	}
	if r := p.get(sub, "/vouchers.csv?customer="+d); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a direct customer's export: status %d", r.StatusCode)
	}
	// The export holds the reseller's customers only.
	r = p.get(sub, "/vouchers.csv")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Body, "\uFEFF") {
		t.Fatalf("export: status %d", r.StatusCode)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records[1:] {
		n, _ := strconv.ParseUint(rec[1], 10, 64)
		if !slices.Contains(own, n) {
			t.Errorf("exported voucher %s of %s", rec[0], rec[1])
		}
	}
	rows := p.auditRows("vouchers.export")
	if len(rows) != 1 || rows[0].OnBehalfOf != p.subUin || rows[0].Params["rows"] != strconv.Itoa(len(records)-1) {
		t.Errorf("audit rows %+v", rows)
	}
}

func TestVouchersExports(t *testing.T) {
	p := newPortal(t)
	p.fillCustomers()
	fin := p.login("finance")
	page := p.get(fin, "/vouchers?status=Issued")
	r := p.get(fin, "/vouchers.xlsx?status=Issued")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: status %d, %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheetRows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	counts := byTestID(t, page.Body, "vouchers-count")
	if len(counts) != 1 || attr(counts[0], "data-total") != strconv.Itoa(len(sheetRows)-1) {
		t.Errorf("the file holds %d vouchers, the page counts %v", len(sheetRows)-1, attr(counts[0], "data-total"))
	}
	if sheetRows[0][0] != "voucher_id" || sheetRows[0][3] != "total_amount_usd" {
		t.Errorf("header %v", sheetRows[0])
	}
	for _, row := range sheetRows[1:] {
		if row[2] != "Issued" {
			t.Errorf("exported voucher %s is %s", row[0], row[2])
		}
	}
	rows := p.auditRows("vouchers.export")
	if len(rows) != 1 || rows[0].Params["format"] != "xlsx" || rows[0].Params["status"] != "Issued" {
		t.Errorf("audit rows %+v", rows)
	}
}
