// Package htmltest reads pages in tests by element — test ids, tags,
// attributes — rather than by substring.
package htmltest

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Find returns the elements of body for which match is true.
func Find(t testing.TB, body string, match func(*html.Node) bool) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// ByTestID finds the elements carrying data-testid=id.
func ByTestID(t testing.TB, body, id string) []*html.Node {
	t.Helper()
	return Find(t, body, func(n *html.Node) bool { return Attr(n, "data-testid") == id })
}

// ByTag finds the elements with a tag.
func ByTag(t testing.TB, body, tag string) []*html.Node {
	t.Helper()
	return Find(t, body, func(n *html.Node) bool { return n.Data == tag })
}

// Attr returns an element's attribute, or "".
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// InputValue is the value of the form field with a name, or "".
func InputValue(t testing.TB, body, name string) string {
	t.Helper()
	for _, n := range Find(t, body, func(n *html.Node) bool { return n.Data == "input" && Attr(n, "name") == name }) {
		return Attr(n, "value")
	}
	return ""
}

// Text returns the text inside a node, trimmed; "" for nil.
func Text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}
