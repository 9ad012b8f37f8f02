package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TestConsoleAccessible crawls every console page a DPO reaches by
// following links from the queue, and checks each against the rules a
// keyboard and screen-reader user depends on (a11yProblems). New pages are
// covered as soon as a link leads to them.
func TestConsoleAccessible(t *testing.T) {
	env := newTestEnv(t, 20, withApproval)
	lead := env.scenario(t, "lead_somente_consentimento")
	env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}})
	env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": lead.Email}})
	c := consoleClient(t)
	_, _, body := consoleGet(t, c, env.baseURL+"/console/entrar")
	if p := a11yProblems(body); len(p) > 0 {
		t.Errorf("sign-in page:\n  %s", strings.Join(p, "\n  "))
	}
	if code, _, _ := consolePost(t, c, env.baseURL+"/console/entrar", url.Values{"api_key": {keyDPO}, "csrf": {csrfInput.FindStringSubmatch(body)[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	queue := []string{"/console/t/demo/fila"}
	seen := map[string]bool{queue[0]: true}
	for len(queue) > 0 && len(seen) < 60 {
		page := queue[0]
		queue = queue[1:]
		resp, err := c.Get(env.baseURL + page)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: HTTP %d", page, resp.StatusCode)
		}
		var b strings.Builder
		_ = html.Render(&b, doc)
		if p := a11yProblems(b.String()); len(p) > 0 {
			t.Errorf("%s:\n  %s", page, strings.Join(p, "\n  "))
		}
		for n := range doc.Descendants() {
			if n.DataAtom != atom.A {
				continue
			}
			u, err := url.Parse(attr(n, "href"))
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/console/t/demo/") {
				continue
			}
			next := u.Path
			if u.RawQuery != "" {
				next += "?" + u.RawQuery
			}
			if !seen[next] && !strings.Contains(u.Path, ".") { // downloads (.csv, .xlsx) are not pages
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d pages reached: the crawl did not follow the nav", len(seen))
	}
	// The pages a form answers: a titular found, a consent history, an
	// invalid CPF's message, a verify run.
	_, _, form := consoleGet(t, c, env.baseURL+"/console/t/demo/titular")
	csrf := csrfInput.FindStringSubmatch(form)[1]
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/console/t/demo/titular", url.Values{"email": {lead.Email}, "access_reason": {"chamado 42"}}},
		{"/console/t/demo/titular", url.Values{"cpf": {"123.456.789-00"}}},
		{"/console/t/demo/consentimento/historico", url.Values{"email": {lead.Email}}},
		{"/console/t/demo/registro/verificar", url.Values{}},
	} {
		post.form.Set("csrf", csrf)
		code, loc, body := consolePost(t, c, env.baseURL+post.path, post.form)
		if code == http.StatusSeeOther {
			code, _, body = consoleGet(t, c, env.baseURL+loc)
		}
		if code >= http.StatusInternalServerError {
			t.Errorf("POST %s: HTTP %d", post.path, code)
		}
		if p := a11yProblems(body); len(p) > 0 {
			t.Errorf("POST %s:\n  %s", post.path, strings.Join(p, "\n  "))
		}
	}
	t.Logf("%d pages and 4 form answers checked", len(seen))
}

var cpfLike = regexp.MustCompile(`\d{3}\.?\d{3}\.?\d{3}-?\d{2}`)

// a11yProblems lists what keeps a page from a keyboard or screen-reader
// user: no language, a missing or second h1, skipped heading levels, form
// fields without labels, tables without captions or header scopes, links
// and buttons without text, charts without a title, positive tabindex,
// scripts and inline handlers, duplicate ids, a title that could hold
// personal data.
func a11yProblems(page string) []string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	bad := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	ids, labelled := map[string]int{}, map[string]bool{}
	var h1s, last int
	var fields []*html.Node
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if id := attr(n, "id"); id != "" {
			ids[id]++
		}
		if t := attr(n, "tabindex"); t != "" && t != "0" && t != "-1" {
			bad("<%s> has tabindex=%s: the tab order must follow the page", n.Data, t)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				bad("<%s> has an inline handler %s", n.Data, a.Key)
			}
		}
		switch n.DataAtom {
		case atom.Html:
			if attr(n, "lang") != "pt-BR" {
				bad("<html> lang=%q, want pt-BR", attr(n, "lang"))
			}
		case atom.Title:
			if tt := text(n); strings.Contains(tt, "@") || cpfLike.MatchString(tt) {
				bad("the title %q could hold personal data", tt)
			}
		case atom.Script:
			bad("a <script>: the console works without JavaScript")
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			level := int(n.Data[1] - '0')
			if level == 1 {
				h1s++
			}
			if last > 0 && level > last+1 {
				bad("<%s> %q follows an h%d: heading levels skip", n.Data, text(n), last)
			}
			last = level
		case atom.Label:
			if f := attr(n, "for"); f != "" {
				labelled[f] = true
			}
			for d := range n.Descendants() {
				if d.DataAtom == atom.Input || d.DataAtom == atom.Select || d.DataAtom == atom.Textarea {
					labelled[fieldKey(d)] = true
				}
			}
		case atom.Input, atom.Select, atom.Textarea:
			switch attr(n, "type") {
			case "hidden", "submit", "button", "reset":
			default:
				fields = append(fields, n)
			}
		case atom.Table:
			hasCaption := false
			for d := range n.ChildNodes() {
				hasCaption = hasCaption || d.DataAtom == atom.Caption
			}
			if !hasCaption && attr(n, "aria-label") == "" && attr(n, "aria-labelledby") == "" {
				bad("a <table> (id %q) without a caption", attr(n, "id"))
			}
		case atom.Th:
			if attr(n, "scope") == "" && attr(n, "id") == "" {
				bad("<th> %q without scope", text(n))
			}
		case atom.A, atom.Button:
			if accessibleText(n) == "" {
				bad("a <%s> without text (href %q)", n.Data, attr(n, "href"))
			}
		case atom.Svg:
			hasTitle := attr(n, "aria-label") != "" || attr(n, "aria-hidden") == "true"
			for d := range n.ChildNodes() {
				hasTitle = hasTitle || (d.Type == html.ElementNode && d.Data == "title" && text(d) != "")
			}
			if !hasTitle {
				bad("an <svg> (id %q) without a title", attr(n, "id"))
			}
		}
	}
	if h1s != 1 {
		bad("%d h1 headings, want 1", h1s)
	}
	for _, f := range fields {
		if !labelled[attr(f, "id")] && !labelled[fieldKey(f)] && attr(f, "aria-label") == "" && attr(f, "aria-labelledby") == "" {
			bad("<%s name=%q> has no label", f.Data, attr(f, "name"))
		}
	}
	for id, n := range ids {
		if n > 1 {
			bad("id %q used %d times", id, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func fieldKey(n *html.Node) string { return fmt.Sprintf("%p", n) }

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// accessibleText is what a screen reader announces for a link or button:
// its text, its aria-label, or the alt of an image inside.
func accessibleText(n *html.Node) string {
	if l := attr(n, "aria-label"); l != "" {
		return l
	}
	if t := text(n); t != "" {
		return t
	}
	for d := range n.Descendants() {
		if d.DataAtom == atom.Img && attr(d, "alt") != "" {
			return attr(d, "alt")
		}
	}
	return ""
}

// TestA11yProblemsFindsFaults: the checker sees each fault it looks for,
// and passes a page without them.
func TestA11yProblemsFindsFaults(t *testing.T) {
	good := `<!doctype html><html lang="pt-BR"><head><title>Fila · titular</title></head><body>
<main><h1>Fila</h1><h2>Filtros</h2><form><label for="s">Situação</label><select id="s" name="s"></select>
<label>Motivo <input name="m"></label><input type="hidden" name="csrf"><button>Filtrar</button></form>
<table><caption>Pedidos</caption><tr><th scope="col">Pedido</th></tr></table>
<svg role="img"><title>Pedidos por mês</title></svg><a href="/x">Próxima</a></main></body></html>`
	if p := a11yProblems(good); len(p) > 0 {
		t.Fatalf("a sound page is faulted: %v", p)
	}
	bad := `<!doctype html><html><head><title>Titular 123.456.789-09</title><script></script></head><body>
<h1>A</h1><h1>B</h1><h4>C</h4><input id="x" name="cpf"><table><tr><th>Pedido</th></tr></table>
<a href="/y"></a><button onclick="go()"></button><svg></svg><p id="d" tabindex="2"></p><p id="d"></p></body></html>`
	got := strings.Join(a11yProblems(bad), "\n")
	for _, want := range []string{"lang=", "personal data", "<script>", "2 h1", "heading levels skip", `name="cpf"> has no label`,
		"without a caption", "without scope", "<a> without text", "<button> without text", "inline handler", "<svg>", "tabindex=2", `id "d" used 2 times`} {
		if !strings.Contains(got, want) {
			t.Errorf("not found: %s\n%s", want, got)
		}
	}
}
