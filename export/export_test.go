package export_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"resellerportal/export"
)

var table = export.Table{
	Name:    "Bills: 2026/11",
	Columns: []export.Column{{"uin", export.Text}, {"name", export.Text}, {"total", export.Money}, {"count", export.Number}},
	Rows: [][]string{
		{"100000000001", "测试客户", "12345678901234.57", "3"},
		{"100000000002", "=HYPERLINK(\"x\")", "0.1", ""},
		{"100000000003", "plain", "=1+2", "-2"},
	},
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := export.WriteCSV(&b, table); err != nil {
		t.Fatal(err)
	}
	want := export.BOM + "uin,name,total,count\n" +
		"100000000001,测试客户,12345678901234.57,3\n" +
		"100000000002,\"'=HYPERLINK(\"\"x\"\")\",0.1,\n" +
		"100000000003,plain,'=1+2,-2\n"
	if b.String() != want {
		t.Errorf("csv:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWriteXLSXKeepsDigitsAndText(t *testing.T) {
	var b bytes.Buffer
	second := export.Table{Name: "Bills: 2026/11", Columns: []export.Column{{"x", export.Number}}, Rows: [][]string{{"1"}}}
	if err := export.WriteXLSX(&b, table, second); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 2 || sheets[0] != "Bills- 2026-11" || !strings.HasSuffix(sheets[1], " (2)") {
		t.Fatalf("sheets %q", sheets)
	}
	rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[1][2]; got != "12345678901234.57" {
		t.Errorf("amount %q: digits changed", got)
	}
	if got := rows[2][1]; got != "=HYPERLINK(\"x\")" {
		t.Errorf("text %q", got)
	}
	if f2, _ := f.GetCellFormula(sheets[0], "B3"); f2 != "" {
		t.Errorf("text became a formula %q", f2)
	}
	for _, c := range []struct{ cell, want string }{{"C2", ""}, {"C3", ""}, {"C4", "s"}, {"D4", ""}} {
		typ, err := f.GetCellType(sheets[0], c.cell)
		if err != nil {
			t.Fatal(err)
		}
		if (c.want == "s") != (typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString) {
			t.Errorf("%s type %v", c.cell, typ)
		}
	}
	bad := export.Table{Columns: []export.Column{{"a", export.Text}}, Rows: [][]string{{"1", "2"}}}
	if err := export.WriteXLSX(&bytes.Buffer{}, bad); err == nil {
		t.Error("a row wider than its columns was written")
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"Acme":         "Acme",
		"=HYPERLINK()": "'=HYPERLINK()",
		"+1 555":       "'+1 555",
		"-3":           "'-3",
		"@SUM(A1)":     "'@SUM(A1)",
		"a=b":          "a=b",
	} {
		if got := export.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
