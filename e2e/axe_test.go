package e2e

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, pinned and vendored (see testdata/axe/README.md).
// It goes into the page through the DevTools protocol, which the portal's
// Content-Security-Policy (script-src 'self') does not govern; the portal
// itself never serves it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeVersion is the version testdata/axe/README.md names; the injected
// script must say the same.
const axeVersion = "4.14.1"

// axeFailing are the impacts that fail a test; moderate and minor
// findings are only logged.
var axeFailing = map[string]bool{"critical": true, "serious": true}

// axeViolation is one rule axe found broken, with the elements that break it.
type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

// axeNode is one element that breaks a rule.
type axeNode struct {
	Target  []string `json:"target"`  // CSS selectors, outermost frame first
	HTML    string   `json:"html"`    // the element's opening tag, as axe cut it
	Summary string   `json:"summary"` // what to fix, in axe's words
}

// axeRun runs axe on the whole document with its default rules (WCAG 2.x
// A and AA plus best practices) and returns the violations in the shape of
// axeViolation. Shadow-DOM and frame selectors are arrays; they are joined.
const axeRun = `(async () => {
	const r = await axe.run(document, {resultTypes: ["violations"]});
	return r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({
			target: n.target.map(s => Array.isArray(s) ? s.join(" >>> ") : String(s)),
			html: n.html || "",
			summary: n.failureSummary || "",
		})),
	}));
})()`

// axeViolations injects axe into the current document, unless it is there
// already, and runs it.
func (tb *tab) axeViolations(t *testing.T) []axeViolation {
	t.Helper()
	if !eval[bool](t, tb, `typeof window.axe === "object" && typeof window.axe.run === "function"`) {
		tb.do(t, "inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
		if v := eval[string](t, tb, `axe.version`); v != axeVersion {
			t.Fatalf("the vendored axe-core says it is version %s, want %s (see testdata/axe/README.md)", v, axeVersion)
		}
	}
	vs, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.fatalf(t, "run axe-core: %v", err)
	}
	return vs
}

// accessibilityProblems runs axe on the page and describes each serious or
// critical violation with every element that has it, for a developer to
// fix. Lesser findings go to the test log.
func (tb *tab) accessibilityProblems(t *testing.T) []string {
	t.Helper()
	var problems, minor []string
	for _, v := range tb.axeViolations(t) {
		if !axeFailing[v.Impact] {
			minor = append(minor, fmt.Sprintf("%s (%s, %d elements)", v.ID, v.Impact, len(v.Nodes)))
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "axe %s (%s): %s [%s]", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n      at %s\n         %s", strings.Join(n.Target, " "), clip(oneLine(n.HTML), 240))
			if s := axeSummary(n.Summary); s != "" {
				fmt.Fprintf(&b, "\n         %s", clip(s, 300))
			}
		}
		problems = append(problems, b.String())
	}
	if len(minor) > 0 {
		sort.Strings(minor)
		t.Logf("axe, moderate and minor (not failing) on %s: %s", tb.path(t), strings.Join(minor, ", "))
	}
	return problems
}

// checkAccessibility fails the test (and goes on) for each serious or
// critical axe violation on the page.
func (tb *tab) checkAccessibility(t *testing.T) {
	t.Helper()
	if problems := tb.accessibilityProblems(t); len(problems) > 0 {
		t.Errorf("%s has %d serious or critical accessibility violations:\n  - %s",
			tb.path(t), len(problems), strings.Join(problems, "\n  - "))
	}
}

// axeSummary drops the "Fix any of the following:" headings from axe's
// failure summary, keeping the reasons, on one line.
func axeSummary(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "Fix any of the following") || strings.HasPrefix(line, "Fix all of the following") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "; ")
}

// oneLine folds runs of white space, line breaks included, into one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
