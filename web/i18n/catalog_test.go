package i18n

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"resellerportal/audit"
	"resellerportal/auth"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	cat, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return cat
}

func TestCatalogLoads(t *testing.T) {
	// New itself refuses a catalogue whose languages carry different ids.
	cat := newCatalog(t)
	if len(cat.MessageIDs()) == 0 {
		t.Fatal("the catalogue is empty")
	}
	for _, lang := range []string{English, Chinese} {
		l := cat.Localizer(lang)
		for _, id := range cat.MessageIDs() {
			// Placeholders render as "<no value>" without data, which is
			// still text: only a missing or blank message is a fault.
			if got := l.T(id); strings.TrimSpace(got) == "" || got == id {
				t.Errorf("%s: message %q is empty or missing (got %q)", lang, id, got)
			}
		}
	}
}

// messageSources are the files whose message ids must be in the catalogue,
// relative to this package.
var messageSources = []string{
	"../templates/*.templ",
	"../templates/*.go",
	"../handlers/*.go",
	"../../cmd/portal/*.go",
	"../../cmd/portal/*/*.go",
	// The services name the messages of their typed errors.
	"../../users/*.go",
	"../../keyring/*.go",
	"../../audit/*.go",
	"../../jobs/*.go",
	"../../dashboard/*.go",
	"../../watch/*.go",
	"../../vouchers/*.go",
	"../../billfiles/*.go",
	"../../commission/*.go",
	"../../endcustomer/*.go",
}

var (
	// Literals shaped like a message id of one of the catalogue's areas.
	idLiteral = regexp.MustCompile(`"((?:nav|error|apierror|login|dashboard|account|users|credentials|audit|sessions|role|outcome|state|action|pager|language|banner|app|form|age|duration|jobs|cache)\.[a-zA-Z0-9_.]+)"`)
	// The call forms that take a message id, whatever its area.
	idCalls = []*regexp.Regexp{
		regexp.MustCompile(`\bT\(ctx, "([^"]+)"`),
		regexp.MustCompile(`\btr\(ctx, "([^"]+)"`),
		regexp.MustCompile(`\bpage\(w, r, "([^"]+)"`),
		regexp.MustCompile(`\berrorPage\(w, r, [^,]+, "([^"]+)"`),
		regexp.MustCompile(`\b(?:LabelID|GroupID|TitleID|MessageID):\s*"([^"]+)"`),
		// The services' typed errors.
		regexp.MustCompile(`\bInvalidField\("[^"]*", "([^"]+)"`),
		regexp.MustCompile(`\bapperr\.New\(apperr\.[A-Za-z]+, "[^"]*", "([^"]+)"`),
	}
	// Audit action names look like message ids but are stored, not shown
	// through the catalogue; they are blanked out before scanning.
	auditAction = regexp.MustCompile(`(?:Entry\(|Action:\s*|action = )"[^"]*"`)
)

// notMessages are literals that match idLiteral but name something else.
var notMessages = map[string]bool{
	"app.css":      true, // static assets
	"app.js":       true,
	"audit.export": true, // an audit action code (audit.Actions)
}

// usedMessageIDs returns every message id the portal's code names, with
// the first place each is named.
func usedMessageIDs(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{}
	scanned := 0
	for _, pattern := range messageSources {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatalf("glob %s: %v", pattern, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") || strings.HasSuffix(file, "_templ.go") {
				continue // tests name ids on purpose; generated code repeats the .templ
			}
			scanned++
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
			for n := 1; sc.Scan(); n++ {
				line := auditAction.ReplaceAllString(sc.Text(), `""`)
				var found []string
				for _, m := range idLiteral.FindAllStringSubmatch(line, -1) {
					found = append(found, m[1])
				}
				for _, re := range idCalls {
					for _, m := range re.FindAllStringSubmatch(line, -1) {
						found = append(found, m[1])
					}
				}
				for _, id := range found {
					// "role." + r and the like are completed at run time;
					// their families are checked below.
					if notMessages[id] || strings.HasSuffix(id, ".") || strings.HasSuffix(id, "_") {
						continue
					}
					if _, seen := used[id]; !seen {
						used[id] = filepath.ToSlash(file) + ":" + strconv.Itoa(n)
					}
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatalf("read %s: %v", file, err)
			}
			f.Close()
		}
	}
	if scanned == 0 {
		t.Fatal("found no templates or handlers to scan")
	}
	return used
}

func TestEveryUsedMessageExists(t *testing.T) {
	cat := newCatalog(t)
	ids := cat.MessageIDs()
	used := usedMessageIDs(t)
	if len(used) < 50 {
		t.Fatalf("found only %d message ids in the code; is the scan broken?", len(used))
	}
	for id, where := range used {
		if _, ok := slices.BinarySearch(ids, id); !ok {
			t.Errorf("%s uses message %q, which the catalogue lacks", where, id)
		}
	}

	// Ids built by concatenation in the templates.
	families := map[string][]string{
		"role.":             nil,
		"outcome.":          {"ok", "failed", "unknown"},              // store.Outcome*
		"credentials.kind_": {"distributor", "subagent"},              // store.Credential*
		"apierror.":         {"AuthFailure", "UnauthorizedOperation"}, // family fallbacks in apiProblem
		"bills.paymode_":    {"prePay", "postPay"},                    // billing.PayModes
		"bills.paid_":       {"0", "1", "2"},                          // billing.Confirmed
	}
	for _, r := range auth.Roles() {
		families["role."] = append(families["role."], string(r))
	}
	families["role."] = append(families["role."], string(auth.RoleSystem))
	// Every action the audit log records is named in both languages.
	families["auditaction."] = audit.Actions()
	for prefix, suffixes := range families {
		for _, s := range suffixes {
			if _, ok := slices.BinarySearch(ids, prefix+s); !ok {
				t.Errorf("message %q is missing", prefix+s)
			}
		}
	}

	// A family sentence for these would hide the API's own, more specific
	// message, which apierror.other shows.
	for _, family := range []string{"FailedOperation", "InvalidParameter", "InvalidParameterValue"} {
		if _, ok := slices.BinarySearch(ids, "apierror."+family); ok {
			t.Errorf("message apierror.%s would hide the specific API message of every %s.* code without a sentence", family, family)
		}
	}
}

// familiesShownByTheAPI are error codes in errors.tsv that are also
// families; they deliberately have no sentence (see above).
var familiesShownByTheAPI = map[string]bool{
	"FailedOperation":       true,
	"InvalidParameter":      true,
	"InvalidParameterValue": true,
}

func TestEveryErrorCodeHasASentence(t *testing.T) {
	const path = "../../../shared/intlpartnersmgt/errors.tsv"
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	cat := newCatalog(t)
	ids := cat.MessageIDs()
	codes := 0
	for i, line := range strings.Split(string(b), "\n") {
		code, _, _ := strings.Cut(line, "\t")
		code = strings.TrimSpace(code)
		if i == 0 || code == "" {
			continue // header
		}
		codes++
		if familiesShownByTheAPI[code] {
			continue
		}
		if _, ok := slices.BinarySearch(ids, "apierror."+code); !ok {
			t.Errorf("error code %s has no message apierror.%s", code, code)
		}
	}
	if codes == 0 {
		t.Fatalf("%s lists no codes", path)
	}
}

func TestPick(t *testing.T) {
	cat := newCatalog(t)
	tests := []struct {
		saved, accept, want string
	}{
		{"", "zh-CN,zh;q=0.9", Chinese},
		{"", "zh-TW", Chinese},
		{"", "zh", Chinese},
		{"", "en-US", English},
		{"", "fr", English},
		{"", "fr,zh;q=0.5", Chinese},
		{"", "", English},
		{"", "not a language header;;", English},
		{"en", "zh-CN", English},
		{"zh-CN", "en", Chinese},
		{"xx", "zh", Chinese},
	}
	for _, tt := range tests {
		t.Run(tt.saved+"|"+tt.accept, func(t *testing.T) {
			if got := cat.Pick(tt.saved, tt.accept); got != tt.want {
				t.Errorf("Pick(%q, %q) = %q, want %q", tt.saved, tt.accept, got, tt.want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	cat := newCatalog(t)
	tests := []struct {
		lang, id string
		data     map[string]any
		want     []string
	}{
		{English, "login.throttled", map[string]any{"Wait": "30s"}, []string{"30s"}},
		{Chinese, "login.throttled", map[string]any{"Wait": "30s"}, []string{"30s", "请"}},
		{English, "pager.position", map[string]any{"Page": 2, "Pages": 7}, []string{"2", "7"}},
		{Chinese, "pager.position", map[string]any{"Page": 2, "Pages": 7}, []string{"第 2 页", "7"}},
		{English, "apierror.other", map[string]any{"Code": "FailedOperation.X", "Message": "it broke"}, []string{"FailedOperation.X", "it broke"}},
		{Chinese, "apierror.other", map[string]any{"Code": "FailedOperation.X", "Message": "it broke"}, []string{"FailedOperation.X", "it broke"}},
		{English, "no.such.message", nil, []string{"no.such.message"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.id, func(t *testing.T) {
			got := cat.Localizer(tt.lang).T(tt.id, tt.data)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("T(%q) in %s = %q, want it to contain %q", tt.id, tt.lang, got, w)
				}
			}
		})
	}

	t.Run("languages differ", func(t *testing.T) {
		en, zh := cat.Localizer(English).T("login.title"), cat.Localizer(Chinese).T("login.title")
		if en == zh {
			t.Errorf("login.title is %q in both languages", en)
		}
	})
	t.Run("missing id", func(t *testing.T) {
		if got := cat.Localizer(English).T("no.such.message"); got != "no.such.message" {
			t.Errorf("T(missing) = %q, want the id", got)
		}
	})
	t.Run("nil localizer", func(t *testing.T) {
		var l *Localizer
		if got := l.T("login.title"); got != "login.title" {
			t.Errorf("nil Localizer T = %q, want the id", got)
		}
		if got := T(context.Background(), "login.title"); got != "login.title" {
			t.Errorf("T without a localizer in the context = %q, want the id", got)
		}
	})
}

// TestChinesePunctuation: Chinese sentences use full-width punctuation
// (，：；？！（）。) next to Chinese characters; placeholders and codes keep
// their ASCII.
func TestChinesePunctuation(t *testing.T) {
	messages := chineseMessages(t)
	placeholder := regexp.MustCompile(`\{\{[^}]*\}\}`)
	isHan := func(r rune) bool { return unicode.Is(unicode.Han, r) }
	for id, msg := range messages {
		text := []rune(placeholder.ReplaceAllString(msg, "X"))
		for i, r := range text {
			if !strings.ContainsRune(",:;?!()", r) {
				continue
			}
			// Look past spaces on both sides.
			prev, next := ' ', ' '
			for j := i - 1; j >= 0; j-- {
				if text[j] != ' ' {
					prev = text[j]
					break
				}
			}
			for j := i + 1; j < len(text); j++ {
				if text[j] != ' ' {
					next = text[j]
					break
				}
			}
			if isHan(prev) || isHan(next) {
				t.Errorf("%s: ASCII %q next to Chinese text in %q; use the full-width form", id, r, msg)
			}
		}
		if n := len(text); n > 1 && text[n-1] == '.' && isHan(text[n-2]) {
			t.Errorf("%s: ends with an ASCII full stop after Chinese text: %q", id, msg)
		}
	}
}

// TestGlossary: the zh-CN catalogue names each partner API term one way,
// as the glossary says.
func TestGlossary(t *testing.T) {
	g, err := os.ReadFile("glossary.tsv")
	if err != nil {
		t.Fatal(err)
	}
	messages := chineseMessages(t)
	terms := 0
	for _, line := range strings.Split(string(g), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("glossary line %q: want English, Chinese and the names not to use", line)
		}
		terms++
		used := false
		for id, msg := range messages {
			used = used || strings.Contains(msg, fields[1])
			for _, avoid := range strings.Split(fields[2], ",") {
				if avoid = strings.TrimSpace(avoid); avoid != "" && strings.Contains(msg, avoid) {
					t.Errorf("%s says %q for %q; the glossary's name is %q", id, avoid, fields[0], fields[1])
				}
			}
		}
		if !used {
			t.Logf("glossary term %q (%s) is not used yet", fields[0], fields[1])
		}
	}
	if terms < 10 {
		t.Fatalf("the glossary has %d terms", terms)
	}
}

// chineseMessages reads every zh-CN file of the catalogue.
func chineseMessages(t *testing.T) map[string]string {
	t.Helper()
	files, err := LocaleFiles()
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{}
	for _, f := range files {
		if f.Lang != Chinese {
			continue
		}
		m, err := ReadLocaleFile(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		for id, text := range m {
			all[id] = text
		}
	}
	return all
}
