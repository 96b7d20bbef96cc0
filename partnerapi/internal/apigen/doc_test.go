package apigen

import (
	"slices"
	"strings"
	"testing"
)

func TestPlainText(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"plain", "Customer UIN", []string{"Customer UIN"}},
		{"enumeration on one line", "0: Normal  2: Forced service suspension", []string{"0: Normal", "2: Forced service suspension"}},
		{"html paragraphs and list", "<p>Date type</p><p>Enumeration value:</p><ul><li>day: By day</li><li>month: Monthly</li></ul>",
			[]string{"Date type", "Enumeration value:", "- day: By day", "- month: Monthly"}},
		{"markdown link and code", "Obtained via the  [ GetTradeConfigList  API](https://www.tencentcloud.com/x/1), such as `HK`.",
			[]string{"Obtained via the GetTradeConfigList API (https://www.tencentcloud.com/x/1), such as HK."}},
		{"placeholder in angle brackets", "<Transaction id>.", []string{"Transaction id."}},
		{"punctuation-only lines dropped", "Billing mode\n.\nMonthly subscription.\n", []string{"Billing mode", "Monthly subscription."}},
		{"entities", "A &amp; B &lt;= C", []string{"A & B <= C"}},
		{"empty", "  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainText(tt.doc); !slices.Equal(got, tt.want) {
				t.Errorf("plainText(%q) = %q, want %q", tt.doc, got, tt.want)
			}
		})
	}
}

func TestCommentWraps(t *testing.T) {
	long := strings.Repeat("word ", 40)
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"short", []string{"Customer UIN"}, "\t// Customer UIN\n"},
		{"paragraph break", []string{"a", "", "Deprecated: b."}, "\t// a\n\t//\n\t// Deprecated: b.\n"},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := comment("\t", tt.lines); got != tt.want {
				t.Errorf("comment = %q, want %q", got, tt.want)
			}
		})
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(comment("", []string{long}), "\n"), "\n") {
		if text := strings.TrimPrefix(line, "// "); len(text) > docWidth {
			t.Errorf("line of %d characters, want at most %d: %q", len(text), docWidth, line)
		}
	}
}
