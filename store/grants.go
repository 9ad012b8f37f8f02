package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Grants is what SHOW GRANTS says the session's account may do: its own
// grants and, on MariaDB, those of its current role. It answers "may the
// account do X here" the way the server decides it, leniently where the
// text leaves doubt (column-level grants count for the table, a database
// name granted with wildcards matches as LIKE does), so a check built on it
// may miss a refusal but never invents one.
//
// SHOW GRANTS rather than information_schema.*_PRIVILEGES: those list the
// account's own grants only, not its role's (MariaDB), and SHOW GRANTS is
// the one source both MariaDB 10.6+ and MySQL 8 show to any account about
// itself.
type Grants struct {
	lines []grantLine
	// roles are the roles granted to the account; grantees the names the
	// privilege lines were granted to. A role with no privilege line of its
	// own was not expanded (MySQL 8 never expands them without SHOW GRANTS
	// … USING; MariaDB only the current role): what it grants is unknown.
	roles    map[string]bool
	grantees map[string]bool
}

type privLevel int

const (
	levelGlobal privLevel = iota
	levelDatabase
	levelTable
)

// grantLine is one GRANT (or, with MySQL 8's partial_revokes, REVOKE) line
// of SHOW GRANTS on a global, database or table level.
type grantLine struct {
	revoke bool
	level  privLevel
	// db is the database name as granted: at levelDatabase a LIKE pattern
	// (`crm\_%`), as the server matches it.
	db, table string
	// privs holds upper-case privilege names; "ALL" stands for ALL
	// [PRIVILEGES].
	privs map[string]bool
}

// ReadGrants runs SHOW GRANTS on q for the session's account.
func ReadGrants(ctx context.Context, q Querier) (*Grants, error) {
	rows, err := q.QueryContext(ctx, "SHOW GRANTS")
	if err != nil {
		return nil, fmt.Errorf("show grants: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, fmt.Errorf("show grants: %w", err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("show grants: %w", err)
	}
	return ParseGrants(lines), nil
}

// ParseGrants reads the lines of SHOW GRANTS, from MariaDB or MySQL. Lines
// it does not know (SET DEFAULT ROLE, PROXY, routine grants) are skipped.
func ParseGrants(lines []string) *Grants {
	g := &Grants{roles: map[string]bool{}, grantees: map[string]bool{}}
	for _, l := range lines {
		p := grantParser{toks: tokenizeGrant(l)}
		p.parse(g)
	}
	return g
}

// Uncertain reports that the account holds roles whose privileges SHOW
// GRANTS did not list: what it lacks may come through them.
func (g *Grants) Uncertain() bool {
	for r := range g.roles {
		if !g.grantees[r] {
			return true
		}
	}
	return false
}

// Global reports priv granted on *.*.
func (g *Grants) Global(priv string) bool {
	for _, l := range g.lines {
		if !l.revoke && l.level == levelGlobal && l.has(priv) {
			return true
		}
	}
	return false
}

// On reports priv on table of database db: granted globally (and not
// revoked for db), on a database pattern matching db, or on the table
// itself (a column-level grant counts). Names compare case-insensitively.
func (g *Grants) On(priv, db, table string) bool {
	return g.on(priv, db, func(l grantLine) bool { return strings.EqualFold(l.table, table) })
}

// InDatabase is On for some table of db: a table-level grant anywhere in db
// counts, so a check that cannot name the table errs toward "granted".
func (g *Grants) InDatabase(priv, db string) bool {
	return g.on(priv, db, func(grantLine) bool { return true })
}

func (g *Grants) on(priv, db string, tableMatches func(grantLine) bool) bool {
	for _, l := range g.lines {
		if l.revoke || !l.has(priv) {
			continue
		}
		switch l.level {
		case levelGlobal:
			if !g.revoked(priv, db) {
				return true
			}
		case levelDatabase:
			if likeMatch(l.db, db) {
				return true
			}
		case levelTable:
			if strings.EqualFold(l.db, db) && tableMatches(l) {
				return true
			}
		}
	}
	return false
}

// revoked reports a partial revoke (MySQL 8, partial_revokes = ON) of priv
// on db, which takes a global privilege back for that database.
func (g *Grants) revoked(priv, db string) bool {
	for _, l := range g.lines {
		if l.revoke && l.level == levelDatabase && l.has(priv) && strings.EqualFold(l.db, db) {
			return true
		}
	}
	return false
}

func (l grantLine) has(priv string) bool { return l.privs[priv] || l.privs["ALL"] }

// grantToken is a word, a quoted name or string (quoted is set; text is
// unquoted) or one punctuation character.
type grantToken struct {
	text   string
	quoted bool
}

func (t grantToken) is(s string) bool { return !t.quoted && strings.EqualFold(t.text, s) }

// tokenizeGrant splits a SHOW GRANTS line: `names` and 'strings' (doubled
// quotes and backslash escapes inside), the punctuation , ( ) . @ * and
// words.
func tokenizeGrant(s string) []grantToken {
	var out []grantToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '`' || c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' && c != '`' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, grantToken{text: b.String(), quoted: true})
			i = j + 1
		case strings.IndexByte(",().@*;", c) >= 0:
			out = append(out, grantToken{text: string(c)})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r`'\",().@*;", rune(s[j])) {
				j++
			}
			out = append(out, grantToken{text: s[i:j]})
			i = j
		}
	}
	return out
}

type grantParser struct {
	toks []grantToken
	i    int
}

func (p *grantParser) peek() grantToken {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return grantToken{}
}

func (p *grantParser) next() grantToken {
	t := p.peek()
	p.i++
	return t
}

func (p *grantParser) done() bool { return p.i >= len(p.toks) }

// skipPast moves past the next token that is text.
func (p *grantParser) skipPast(text string) {
	for !p.done() {
		if p.next().is(text) {
			return
		}
	}
}

// parse adds the line's grant to g, or its roles: GRANT privs ON level TO
// account …, REVOKE privs ON level FROM account, GRANT role, … TO account.
func (p *grantParser) parse(g *Grants) {
	first := p.next()
	revoke := first.is("REVOKE")
	if !revoke && !first.is("GRANT") {
		return
	}
	if p.peek().quoted { // a role grant: names, not privileges
		if revoke {
			return
		}
		for !p.done() && !p.peek().is("TO") {
			if t := p.next(); t.quoted {
				g.roles[t.text] = true
				if p.peek().text == "@" { // MySQL: `role`@`host`
					p.next()
					p.next()
				}
			}
		}
		return
	}
	l := grantLine{revoke: revoke, privs: map[string]bool{}}
	var words []string
	flush := func() {
		if len(words) > 0 {
			name := strings.ToUpper(strings.Join(words, " "))
			if name == "ALL PRIVILEGES" {
				name = "ALL"
			}
			l.privs[name] = true
			words = nil
		}
	}
	for !p.peek().is("ON") {
		if p.done() {
			return
		}
		switch t := p.next(); {
		case t.text == "," && !t.quoted:
			flush()
		case t.text == "(" && !t.quoted: // a column list: the privilege counts for the table
			p.skipPast(")")
		default:
			words = append(words, t.text)
		}
	}
	p.next()
	flush()
	if l.privs["PROXY"] {
		return
	}
	if t := p.peek(); t.is("TABLE") {
		p.next()
	} else if t.is("PROCEDURE") || t.is("FUNCTION") || t.is("PACKAGE") {
		return
	}
	a := p.next()
	if p.peek().text != "." {
		return // "*" alone (the default database) never appears in SHOW GRANTS
	}
	p.next()
	b := p.next()
	switch {
	case a.text == "*" && !a.quoted && b.text == "*" && !b.quoted:
		l.level = levelGlobal
	case b.text == "*" && !b.quoted:
		l.level, l.db = levelDatabase, a.text
	default:
		l.level, l.db, l.table = levelTable, a.text, b.text
	}
	if to := p.next(); !to.is("TO") && !to.is("FROM") {
		return
	}
	g.grantees[p.next().text] = true
	g.lines = append(g.lines, l)
}

// likeMatch reports s matching the LIKE pattern p (% any run, _ one
// character, \ escapes), case-insensitively: how the server matches a
// database name against a database-level grant.
func likeMatch(p, s string) bool {
	p, s = strings.ToLower(p), strings.ToLower(s)
	for len(p) > 0 {
		switch p[0] {
		case '%':
			for len(p) > 0 && p[0] == '%' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for {
				if likeMatch(p, s) {
					return true
				}
				if s == "" {
					return false
				}
				_, n := utf8.DecodeRuneInString(s)
				s = s[n:]
			}
		case '_':
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			p, s = p[1:], s[n:]
			continue
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
		}
		r, n := utf8.DecodeRuneInString(p)
		sr, sn := utf8.DecodeRuneInString(s)
		if s == "" || r != sr {
			return false
		}
		p, s = p[n:], s[sn:]
	}
	return s == ""
}

// sessionDatabase is DATABASE() on q: the tenant database of the DSN.
func sessionDatabase(ctx context.Context, q Querier) (string, error) {
	var db sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err != nil {
		return "", err
	}
	return db.String, nil
}
