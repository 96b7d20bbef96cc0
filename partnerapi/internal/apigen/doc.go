package apigen

import (
	"html"
	"regexp"
	"strings"
)

// docWidth is how many characters of text a generated comment line holds
// before it wraps.
const docWidth = 76

var (
	// htmlBreak matches the block-level tags the definition's documents use;
	// each becomes a line break.
	htmlBreak = regexp.MustCompile(`(?i)</?(p|ul|ol|div)\s*>|<br\s*/?>|</li\s*>`)
	// htmlItem matches a list item's opening tag; it becomes a new "- " line.
	htmlItem = regexp.MustCompile(`(?i)<li\s*>`)
	// htmlInline matches inline tags, dropped with their attributes.
	htmlInline = regexp.MustCompile(`(?i)</?(b|i|em|strong|code|span|a)(\s[^>]*)?>`)
	// mdLink matches a markdown link [text](url).
	mdLink = regexp.MustCompile(`\[\s*([^\]]*?)\s*\]\((https?://[^)\s]+)\)`)
	// placeholder matches a document that is only an angle-bracketed
	// phrase, such as "<Transaction id>.".
	placeholder = regexp.MustCompile(`^<([^<>]+)>(\.?)$`)
	// inlineList matches two spaces before "N:", the way a few documents
	// separate the values of an enumeration on one line.
	inlineList = regexp.MustCompile(` {2,}(-?[0-9]+:)`)
	spaces     = regexp.MustCompile(`\s+`)
	onlyPunct  = regexp.MustCompile(`^[\p{P}\s]*$`)
)

// plainText turns a member's documentation from the API definition into
// plain lines of text: HTML tags and entities, markdown links and code
// spans are resolved, blank and punctuation-only lines are dropped.
func plainText(doc string) []string {
	doc = strings.TrimSpace(doc)
	if m := placeholder.FindStringSubmatch(doc); m != nil {
		doc = m[1] + m[2]
	}
	doc = htmlBreak.ReplaceAllString(doc, "\n")
	doc = htmlItem.ReplaceAllString(doc, "\n- ")
	doc = htmlInline.ReplaceAllString(doc, "")
	doc = mdLink.ReplaceAllString(doc, "$1 ($2)")
	doc = strings.ReplaceAll(doc, "`", "")
	doc = html.UnescapeString(doc)
	doc = inlineList.ReplaceAllString(doc, "\n$1")
	var lines []string
	for line := range strings.SplitSeq(doc, "\n") {
		line = strings.TrimSpace(spaces.ReplaceAllString(line, " "))
		if onlyPunct.MatchString(line) {
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

// wrap breaks each line at word boundaries so that none is longer than
// width, unless a single word is.
func wrap(lines []string, width int) []string {
	var out []string
	for _, line := range lines {
		for len(line) > width {
			cut := strings.LastIndexByte(line[:width+1], ' ')
			if cut <= 0 {
				cut = strings.IndexByte(line, ' ')
				if cut < 0 {
					break
				}
			}
			out = append(out, line[:cut])
			line = strings.TrimSpace(line[cut+1:])
		}
		out = append(out, line)
	}
	return out
}

// comment renders documentation as a Go comment, each line prefixed by
// indent and "// "; it is empty when there is nothing to say.
func comment(indent string, lines []string) string {
	var b strings.Builder
	for _, line := range wrap(lines, docWidth) {
		b.WriteString(indent)
		if line == "" {
			b.WriteString("//\n") // a paragraph break
			continue
		}
		b.WriteString("// ")
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}
