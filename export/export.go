// Package export writes the portal's tables as files people open in a
// spreadsheet: CSV in UTF-8 with a byte order mark (so spreadsheet programs
// read Chinese names right) and XLSX. Money stays exact: amounts go into
// both files as the decimal text they were given, never through float64.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// Kind is what a column holds, which decides how XLSX stores its cells.
type Kind int

// The column kinds.
const (
	Text   Kind = iota // stored as text, guarded against formulas
	Number             // an exact decimal or integer, stored as a number
	Money              // an exact decimal amount, stored as a number shown with two decimals
)

// Column is one column of a table: its header (a contract with the
// spreadsheets people build on the file, so keep it stable) and its kind.
type Column struct {
	Header string
	Kind   Kind
}

// Table is one sheet: a name (XLSX sheet names are cut to 31 characters),
// its columns and its rows, each row one cell per column.
type Table struct {
	Name    string
	Columns []Column
	Rows    [][]string
}

// BOM starts a CSV file so that spreadsheet programs read it as UTF-8.
const BOM = "\uFEFF"

// CSVContentType and XLSXContentType are the files' media types.
const (
	CSVContentType  = "text/csv; charset=utf-8"
	XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// SafeCell keeps a spreadsheet from reading text as a formula: text a
// program would evaluate gets a leading apostrophe.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the table as CSV with a byte order mark; text cells (and
// cells of number columns that are not numbers) are guarded against
// formulas, numbers are written as given.
func WriteCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Header
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	line := make([]string, len(t.Columns))
	for r, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("csv %s: row %d has %d cells for %d columns", t.Name, r+1, len(row), len(t.Columns))
		}
		for i, cell := range row {
			if _, err := decimal.NewFromString(cell); t.Columns[i].Kind == Text || (cell != "" && err != nil) {
				// Text, and anything in a number column that is not a
				// number (a bad amount as typed), is guarded.
				cell = SafeCell(cell)
			}
			line[i] = cell
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the tables as one workbook, a sheet each, with a bold
// header row. Numbers and amounts are stored as numbers from their decimal
// text (so sums in the spreadsheet work and no digit is lost on the way);
// a cell that is not a decimal is stored as text rather than dropped.
func WriteXLSX(w io.Writer, tables ...Table) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for n, t := range tables {
		name := sheetName(t.Name, n, used)
		if n == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		for i, c := range t.Columns {
			if err := setCell(f, name, i, 0, Text, c.Header, bold); err != nil {
				return err
			}
		}
		for r, row := range t.Rows {
			if len(row) != len(t.Columns) {
				return fmt.Errorf("xlsx %s: row %d has %d cells for %d columns", t.Name, r+1, len(row), len(t.Columns))
			}
			for i, v := range row {
				style := 0
				if t.Columns[i].Kind == Money {
					style = money
				}
				if err := setCell(f, name, i, r+1, t.Columns[i].Kind, v, style); err != nil {
					return err
				}
			}
		}
	}
	_, err = f.WriteTo(w)
	return err
}

// setCell writes one cell (column and row from 0): a number or amount as
// its exact decimal text in a number cell, anything else as text (which a
// spreadsheet never evaluates as a formula).
func setCell(f *excelize.File, sheet string, col, row int, k Kind, v string, style int) error {
	at, err := excelize.CoordinatesToCellName(col+1, row+1)
	if err != nil {
		return err
	}
	if _, derr := decimal.NewFromString(v); k != Text && derr == nil {
		// SetCellDefault stores numeric text as a number without parsing
		// it into a float64 first.
		err = f.SetCellDefault(sheet, at, strings.TrimPrefix(v, "+"))
	} else {
		err = f.SetCellStr(sheet, at, v)
	}
	if err != nil || style == 0 {
		return err
	}
	return f.SetCellStyle(sheet, at, at, style)
}

// sheetName is a valid, unique sheet name: at most 31 characters, none of
// the characters XLSX forbids.
func sheetName(name string, n int, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, strings.TrimSpace(name))
	if name == "" {
		name = fmt.Sprintf("Sheet%d", n+1)
	}
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	base := []rune(name)
	for i := 2; used[name]; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		keep := min(len(base), 31-len(suffix))
		name = string(base[:keep]) + suffix
	}
	used[name] = true
	return name
}
