package templates

import "strconv"

// Charts are server-rendered SVG: no script, so the Content-Security-Policy
// stays as it is, and the numbers come from the same view model as the
// table printed beside each chart. A viewBox scales them to the width of a
// phone.

// ChartBar is one bar: its short axis label, its full name and formatted
// value (the bar's <title>), and its length in the chart's units.
type ChartBar struct {
	Label string
	Title string
	Value string
	// Size is the bar's length from 0 to ChartScale; a negative amount
	// (a refund) has Size 0 and shows its value in words.
	Size int
	// Mark singles a bar out (the month shown) by a hatch pattern as well
	// as its colour, so the mark is seen without colour.
	Mark bool
}

// Chart is a bar chart with its accessible name.
type Chart struct {
	ID    string // unique on the page; prefixes the chart's element ids
	Label string // accessible name, translated
	Bars  []ChartBar
}

// ChartScale is the length of the longest bar.
const ChartScale = 1000

// Vertical charts' geometry, in viewBox units.
const (
	vWidth  = 480
	vHeight = 220
	vTop    = 16
	vPlot   = 170 // the plot's height: bars end at vTop+vPlot
	vLeft   = 4
)

func f(n int) string { return strconv.Itoa(n) }

func vSlot(n int) int { return (vWidth - 2*vLeft) / max(n, 1) }

func vBarX(i, n int) string { return f(vLeft + i*vSlot(n) + vSlot(n)/8) }

func vBarW(n int) string { return f(max(vSlot(n)*3/4, 1)) }

func vBarH(b ChartBar) int { return b.Size * vPlot / ChartScale }

func vBarY(b ChartBar) string { return f(vTop + vPlot - vBarH(b)) }

func vLabelX(i, n int) string { return f(vLeft + i*vSlot(n) + vSlot(n)/2) }

// vLabelShown thins the axis labels of a crowded chart (a month's days)
// to every other one; every bar keeps its <title> and its table row.
func vLabelShown(i, n int) bool { return n <= 16 || i%2 == 0 }

func vFont(n int) string {
	if n > 16 {
		return "11"
	}
	return "13"
}

// Horizontal charts' geometry: one row a bar, its label above it.
const (
	hWidth = 360
	hRow   = 40
	hBar   = 14
	hLong  = 230 // the longest bar, leaving room for its value
)

func hHeight(n int) string { return f(max(n, 1)*hRow + 4) }

func hLabelY(i int) string { return f(i*hRow + 14) }

func hBarY(i int) string { return f(i*hRow + 20) }

func hBarW(b ChartBar) string { return f(max(b.Size*hLong/ChartScale, 1)) }

func hValueX(b ChartBar) string { return f(max(b.Size*hLong/ChartScale, 1) + 8) }

func hValueY(i int) string { return f(i*hRow + 32) }
