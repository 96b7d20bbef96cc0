package billing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/export"
	"resellerportal/store"
)

// Export formats.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// The overview's tables: "customers" (every customer's total of the month)
// and "months" (the chart's partner-wide totals).
var OverviewTables = []string{"customers", "months"}

// The customer month's tables.
var MonthTables = []string{"paymodes", "products", "regions", "daily", "details"}

// ExportAction is the audit log's action of every bills export.
const ExportAction = "bills.export"

func utcText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func uinText(u uint64) string {
	if u == 0 {
		return ""
	}
	return strconv.FormatUint(u, 10)
}

// checkFormat checks an export's format and, for CSV, its one table.
func checkFormat(format, table string, tables []string) (string, error) {
	switch format {
	case CSV:
		if table == "" {
			table = tables[0]
		}
		if !slices.Contains(tables, table) {
			return "", apperr.InvalidField("table", msgBadFilter)
		}
		return table, nil
	case XLSX:
		return "", nil
	}
	return "", apperr.InvalidField("format", msgBadFilter)
}

// write writes the tables in the format (CSV: the one named) and the
// export's audit row, whatever happened.
func (s *Service) write(ctx context.Context, actor audit.Actor, w io.Writer, format, table string, target uint64, params map[string]string, build func() ([]export.Table, error)) error {
	tables, err := build()
	rows := 0
	if err == nil {
		switch format {
		case CSV:
			for _, t := range tables {
				if t.Name == table {
					rows = len(t.Rows)
					err = export.WriteCSV(w, t)
				}
			}
		default:
			for _, t := range tables {
				rows += len(t.Rows)
			}
			err = export.WriteXLSX(w, tables...)
		}
	}
	params["format"], params["rows"] = format, strconv.Itoa(rows)
	if table != "" {
		params["table"] = table
	}
	entry := actor.Entry(ExportAction, target, params)
	if err != nil {
		entry.Outcome = store.OutcomeFailed
	}
	if _, aerr := s.db.AppendAudit(ctx, entry); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// ExportOverview writes the month's customer totals (every row, not just
// a page) and the chart's months as CSV (one table, "customers" when
// table is "") or XLSX (both), and records the export in the audit log.
func (s *Service) ExportOverview(ctx context.Context, actor audit.Actor, f Filters, format, table string, w io.Writer) error {
	if err := mayView(actor); err != nil {
		return err
	}
	if f.page == 0 {
		return errors.New("export bills: filters not parsed")
	}
	table, err := checkFormat(format, table, OverviewTables)
	if err != nil {
		return err
	}
	month := f.store.Month
	params := map[string]string{"month": month}
	if f.Sort != "" {
		params["sort"] = f.Sort
	}
	err = s.write(ctx, actor, w, format, table, 0, params, func() ([]export.Table, error) {
		customers := export.Table{Name: "customers", Columns: []export.Column{
			{Header: "uin", Kind: export.Text}, {Header: "name", Kind: export.Text}, {Header: "reseller_uin", Kind: export.Text},
			{Header: "month", Kind: export.Text}, {Header: "total", Kind: export.Money}, {Header: "previous_month_total", Kind: export.Money},
			{Header: "change", Kind: export.Money}, {Header: "change_percent", Kind: export.Number}, {Header: "fetched_at_utc", Kind: export.Text}}}
		err := s.each(ctx, f, func(r Row) error {
			prev, change := "", ""
			if r.HasPrevious {
				prev, change = r.PrevAmount.String(), r.Change.String()
			}
			customers.Rows = append(customers.Rows, []string{strconv.FormatUint(r.Uin, 10), r.Name, uinText(r.ResellerUin), month,
				r.Amount.String(), prev, change, r.ChangePct, utcText(r.FetchedAt)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		o, err := s.Overview(ctx, actor, f)
		if err != nil {
			return nil, err
		}
		months := export.Table{Name: "months", Columns: []export.Column{{Header: "month", Kind: export.Text},
			{Header: "total", Kind: export.Money}, {Header: "customers", Kind: export.Number}}}
		for _, m := range o.Months {
			months.Rows = append(months.Rows, []string{m.Month, m.Total.String(), strconv.Itoa(m.Customers)})
		}
		return []export.Table{customers, months}, nil
	})
	if err != nil {
		return fmt.Errorf("export bills of %s: %w", month, err)
	}
	return nil
}

// ExportMonth writes a customer's month — pay modes with transaction
// types, products, regions, daily spend and every detail line matching
// the filters — as CSV (one table, "paymodes" when table is "") or XLSX
// (all), and records the export in the audit log.
func (s *Service) ExportMonth(ctx context.Context, actor audit.Actor, uin uint64, month string, f DetailFilters, format, table string, w io.Writer) error {
	table, err := checkFormat(format, table, MonthTables)
	if err != nil {
		return err
	}
	m, err := s.CustomerMonth(ctx, actor, uin, month, apicache.Fresh, f)
	if err != nil {
		return err
	}
	if m.Blocked != nil {
		return m.Blocked
	}
	params := map[string]string{"month": m.Month}
	for k, v := range map[string]string{"paymode": f.PayMode, "action": f.ActionType, "paid": f.IsConfirmed} {
		if v != "" {
			params[k] = v
		}
	}
	err = s.write(ctx, actor, w, format, table, uin, params, func() ([]export.Table, error) {
		return s.monthTables(ctx, m, format == XLSX || table == "details")
	})
	if err != nil {
		return fmt.Errorf("export bills of %d for %s: %w", uin, m.Month, err)
	}
	return nil
}

// figureErr is why a figure has no value.
func figureErr[T any](f apicache.Figure[T]) error {
	switch {
	case f.Err != nil:
		return f.Err
	case f.Value == nil:
		return apperr.New(apperr.Busy, "", "bills.still_reading").Because(apicache.ErrPending)
	}
	return nil
}

var partColumns = []export.Column{{Header: "code", Kind: export.Text}, {Header: "name", Kind: export.Text},
	{Header: "original_cost", Kind: export.Money}, {Header: "voucher_amount", Kind: export.Money}, {Header: "total", Kind: export.Money}}

func partRows(ps []store.BillPart) [][]string {
	out := make([][]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, []string{p.Code, p.Name, p.OriginalCost, p.VoucherAmount, p.Total})
	}
	return out
}

// monthTables are the customer month's tables; details only when asked,
// since they may take many calls.
func (s *Service) monthTables(ctx context.Context, m Month, details bool) ([]export.Table, error) {
	for _, err := range []error{figureErr(m.PayModes), figureErr(m.Products), figureErr(m.Regions), figureErr(m.Daily)} {
		if err != nil {
			return nil, err
		}
	}
	modes := export.Table{Name: "paymodes", Columns: []export.Column{{Header: "pay_mode", Kind: export.Text}, {Header: "pay_mode_name", Kind: export.Text},
		{Header: "transaction_type", Kind: export.Text}, {Header: "transaction_type_name", Kind: export.Text},
		{Header: "original_cost", Kind: export.Money}, {Header: "voucher_amount", Kind: export.Money}, {Header: "total", Kind: export.Money}}}
	for _, pm := range *m.PayModes.Value {
		modes.Rows = append(modes.Rows, []string{pm.Code, pm.Name, "", "", pm.OriginalCost, pm.VoucherAmount, pm.Total})
		for _, a := range pm.Actions {
			modes.Rows = append(modes.Rows, []string{pm.Code, pm.Name, a.Code, a.Name, a.OriginalCost, a.VoucherAmount, a.Total})
		}
	}
	products := export.Table{Name: "products", Columns: partColumns, Rows: partRows(*m.Products.Value)}
	regions := export.Table{Name: "regions", Columns: partColumns, Rows: partRows(*m.Regions.Value)}
	daily := export.Table{Name: "daily", Columns: []export.Column{{Header: "date", Kind: export.Text}, {Header: "total", Kind: export.Money}}}
	for _, d := range *m.Daily.Value {
		daily.Rows = append(daily.Rows, []string{d.Date, d.Total})
	}
	tables := []export.Table{modes, products, regions, daily}
	if !details {
		return tables, nil
	}
	c, err := s.clientFor(ctx, m.Row)
	if err != nil {
		return nil, err
	}
	lines, err := s.allDetails(ctx, c, m)
	if err != nil {
		return nil, err
	}
	dt := export.Table{Name: "details", Columns: []export.Column{{Header: "transaction_time", Kind: export.Text}, {Header: "product", Kind: export.Text},
		{Header: "sub_product", Kind: export.Text}, {Header: "billing_mode", Kind: export.Text}, {Header: "transaction_type", Kind: export.Text},
		{Header: "region", Kind: export.Text}, {Header: "instance_id", Kind: export.Text}, {Header: "component", Kind: export.Text},
		{Header: "original_cost", Kind: export.Money}, {Header: "voucher_deduction", Kind: export.Money}, {Header: "total", Kind: export.Money},
		{Header: "currency", Kind: export.Text}, {Header: "transaction_id", Kind: export.Text}}}
	for _, l := range lines {
		dt.Rows = append(dt.Rows, []string{l.TransactionTime, l.ProductName, l.SubProductName, l.BillingMode, l.TransactionType, l.Region,
			l.InstanceId, l.ComponentName, l.OriginalCost, l.VoucherDeduction, l.TotalCost, l.Currency, l.TransactionId})
	}
	return append(tables, dt), nil
}
