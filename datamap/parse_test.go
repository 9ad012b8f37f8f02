package datamap

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// doc builds a map whose entities block starts on line 5.
func doc(entities string) string {
	return "version: 1\nsubject:\n  identifiers: [cpf, email]\nentities:\n" + entities
}

// root is a valid root entity, lines 5-8, for cases that need one.
const root = `  p:
    table: pessoas
    key: [id]
    match: {cpf: cpf}
`

type wantProblem struct {
	path string
	line int
	msg  string // substring of Message
	fix  string // substring of Fix ("" just requires a fix)
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want wantProblem
	}{
		// Document level.
		{"yaml syntax", "version: 1\nentities:\n  p: [\n", wantProblem{"", 3, "not valid YAML", "syntax"}},
		{"empty file", "", wantProblem{"", 0, "empty", "version: 1"}},
		{"two documents", doc(root) + "---\nversion: 1\n", wantProblem{"", 9, "second document", ""}},
		{"alias", "version: 1\nsubject: &s {identifiers: [cpf]}\nentities: {}\n", wantProblem{"", 2, "anchors and aliases", "in full"}},
		{"top is a list", "- version\n", wantProblem{"", 1, "must be a mapping", "version, subject, entities"}},
		{"unknown top key", "version: 1\nsubject: {identifiers: [cpf]}\nentites: {}\n", wantProblem{"entites", 3, `unknown key "entites"`, `did you mean "entities"?`}},
		{"missing version", "subject: {identifiers: [cpf]}\nentities:\n" + root, wantProblem{"version", 1, "missing version", "version: 1"}},
		{"version 2", "version: 2\nsubject: {identifiers: [cpf]}\nentities:\n" + root, wantProblem{"version", 1, "unsupported version 2", "version: 1"}},
		{"version text", "version: one\nsubject: {identifiers: [cpf]}\nentities:\n" + root, wantProblem{"version", 1, "whole number", ""}},
		{"missing subject", "version: 1\nentities:\n" + root, wantProblem{"subject", 1, "missing subject", "identifiers"}},
		{"identifiers not a list", "version: 1\nsubject: {identifiers: cpf}\nentities:\n" + root, wantProblem{"subject.identifiers", 2, "must be a list", "[cpf, email]"}},
		{"unknown identifier", "version: 1\nsubject:\n  identifiers: [cpf, emial]\nentities:\n" + root, wantProblem{"subject.identifiers[1]", 3, `unknown identifier "emial"`, `did you mean "email"?`}},
		{"duplicate identifier", "version: 1\nsubject:\n  identifiers: [cpf, cpf]\nentities:\n" + root, wantProblem{"subject.identifiers[1]", 3, "listed twice", ""}},
		{"no identifiers", "version: 1\nsubject:\n  identifiers: []\nentities:\n" + root, wantProblem{"subject.identifiers", 3, "no identifiers", "cpf, email, phone"}},
		{"no entities", "version: 1\nsubject: {identifiers: [cpf]}\nentities: {}\n", wantProblem{"entities", 3, "no entities", ""}},
		{"missing entities", "version: 1\nsubject: {identifiers: [cpf]}\n", wantProblem{"entities", 1, "missing entities", ""}},

		// Entity keys.
		{"entity not a mapping", doc("  p: pessoas\n"), wantProblem{"entities.p", 5, "must be a mapping", "table"}},
		{"bad entity name", doc(root + "  pes-soa:\n    table: x\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.pes-soa", 9, "not a valid entity name", "letters, digits and underscores"}},
		{"duplicate entity", doc(root + "  p:\n    table: x\n    key: [id]\n"), wantProblem{"entities.p", 9, `duplicate key "p"`, ""}},
		{"unknown entity key", doc("  p:\n    tabel: pessoas\n    table: pessoas\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.tabel", 6, `unknown key "tabel"`, `did you mean "table"?`}},
		{"missing table", doc("  p:\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.table", 5, "missing table", "add table"}},
		{"bad table name", doc("  p:\n    table: pessoas; drop table x\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.table", 6, "not a valid table name", "letters, digits and underscores"}},
		{"table with backtick", doc("  p:\n    table: \"pes`soas\"\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.table", 6, "not a valid table name", ""}},
		{"long table name", doc("  p:\n    table: " + strings.Repeat("t", 65) + "\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.table", 6, "not a valid table name", "64"}},
		{"empty table", doc("  p:\n    table:\n    key: [id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.table", 6, "is empty", ""}},
		{"missing key", doc("  p:\n    table: pessoas\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.key", 5, "missing key", "key: ["}},
		{"key not a list", doc("  p:\n    table: pessoas\n    key: id\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.key", 7, "must be a list", "key: [id]"}},
		{"key empty", doc("  p:\n    table: pessoas\n    key: []\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.key", 7, "key is empty", ""}},
		{"key column repeated", doc("  p:\n    table: pessoas\n    key: [id, id]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.key[1]", 7, "listed twice", ""}},
		{"key column name", doc("  p:\n    table: pessoas\n    key: [\"id x\"]\n    match: {cpf: cpf}\n"), wantProblem{"entities.p.key[0]", 7, "not a valid column name", ""}},
		{"legal basis", doc(root + "    legal_basis: consentimeto\n"), wantProblem{"entities.p.legal_basis", 9, `unknown legal basis "consentimeto"`, `did you mean "consentimento"?`}},
		{"shared_with not a list", doc(root + "    shared_with: Banco\n"), wantProblem{"entities.p.shared_with", 9, "must be a list", ""}},
		{"purpose not text", doc(root + "    purpose: [a, b]\n"), wantProblem{"entities.p.purpose", 9, "single text value", ""}},

		// Match.
		{"match unknown identifier", doc("  p:\n    table: pessoas\n    key: [id]\n    match: {rg: rg, cpf: cpf}\n"), wantProblem{"entities.p.match.rg", 8, `unknown identifier "rg"`, "cpf, email, phone"}},
		{"match undeclared identifier", doc("  p:\n    table: pessoas\n    key: [id]\n    match: {cpf: cpf, phone: fone}\n"), wantProblem{"entities.p.match.phone", 8, "not declared in subject.identifiers", "add phone to subject.identifiers"}},
		{"match empty", doc(root + "  q:\n    table: q\n    key: [id]\n    match: {}\n"), wantProblem{"entities.q.match", 12, "match is empty", ""}},
		{"match bad column", doc("  p:\n    table: pessoas\n    key: [id]\n    match: {cpf: \"cpf col\"}\n"), wantProblem{"entities.p.match.cpf", 8, "not a valid column name", ""}},
		{"no root", doc("  p:\n    table: pessoas\n    key: [id]\n"), wantProblem{"entities", 4, "no entity has match", "add match"}},

		// Parent and the graph.
		{"parent unknown entity", doc(root + "  c:\n    table: c\n    key: [id]\n    parent: {entity: pesoa, on: {p_id: id}}\n"), wantProblem{"entities.c.parent.entity", 12, `parent entity "pesoa" does not exist`, "use an existing entity: p, c"}},
		{"parent misspelt entity", doc("  pessoa:\n    table: pessoas\n    key: [id]\n    match: {cpf: cpf}\n  c:\n    table: c\n    key: [id]\n    parent: {entity: pesoa, on: {p_id: id}}\n"), wantProblem{"entities.c.parent.entity", 12, `parent entity "pesoa" does not exist`, `did you mean "pessoa"?`}},
		{"parent unknown key", doc(root + "  c:\n    table: c\n    key: [id]\n    parent: {entity: p, on: {p_id: id}, using: x}\n"), wantProblem{"entities.c.parent.using", 12, `unknown key "using"`, "entity, on"}},
		{"parent missing on", doc(root + "  c:\n    table: c\n    key: [id]\n    parent: {entity: p}\n"), wantProblem{"entities.c.parent.on", 12, "missing on", "on: {"}},
		{"parent on empty", doc(root + "  c:\n    table: c\n    key: [id]\n    parent: {entity: p, on: {}}\n"), wantProblem{"entities.c.parent.on", 12, "on is empty", ""}},
		{"parent on bad column", doc(root + "  c:\n    table: c\n    key: [id]\n    parent: {entity: p, on: {\"p id\": id}}\n"), wantProblem{"entities.c.parent.on.p id", 12, "not a valid column name", ""}},
		{"parent cycle", doc(root + "  b:\n    table: b\n    key: [id]\n    parent: {entity: c, on: {c_id: id}}\n  c:\n    table: c\n    key: [id]\n    parent: {entity: b, on: {b_id: id}}\n"),
			wantProblem{"entities.b.parent.entity", 12, "parent cycle: b -> c -> b", "remove parent"}},
		{"parent cycle through a root", doc("  p:\n    table: pessoas\n    key: [id]\n    match: {cpf: cpf}\n    parent: {entity: q, on: {q_id: id}}\n  q:\n    table: q\n    key: [id]\n    parent: {entity: p, on: {p_id: id}}\n"),
			wantProblem{"entities.p.parent.entity", 9, "parent cycle: p -> q -> p", ""}},
		{"self parent", doc(root + "  b:\n    table: b\n    key: [id]\n    parent: {entity: b, on: {b_id: id}}\n"), wantProblem{"entities.b.parent.entity", 12, "parent cycle: b -> b", ""}},
		{"orphan", doc(root + "  o:\n    table: o\n    key: [id]\n"), wantProblem{"entities.o", 9, "neither match nor parent", "add parent"}},
		{"chain to orphan", doc(root + "  o:\n    table: o\n    key: [id]\n  c:\n    table: c\n    key: [id]\n    parent: {entity: o, on: {o_id: id}}\n"),
			wantProblem{"entities.c.parent.entity", 15, `parent chain c -> o ends at "o"`, `give "o" a parent or match`}},

		// Where.
		{"where not a mapping", doc(root + "  c:\n    table: c\n    key: [id]\n    where: [kind]\n    parent: {entity: p, on: {p_id: id}}\n"), wantProblem{"entities.c.where", 12, "must be a mapping", "where: {parent_type: Contacts}"}},
		{"where empty", doc(root + "  c:\n    table: c\n    key: [id]\n    where: {}\n    parent: {entity: p, on: {p_id: id}}\n"), wantProblem{"entities.c.where", 12, "where is empty", "remove where"}},
		{"where null", doc(root + "  c:\n    table: c\n    key: [id]\n    where: {kind: null}\n    parent: {entity: p, on: {p_id: id}}\n"), wantProblem{"entities.c.where.kind", 12, "one constant value", "NULL"}},
		{"where list", doc(root + "  c:\n    table: c\n    key: [id]\n    where: {kind: [A, B]}\n    parent: {entity: p, on: {p_id: id}}\n"), wantProblem{"entities.c.where.kind", 12, "one constant value", "Contacts"}},
		{"where bad column", doc(root + "  c:\n    table: c\n    key: [id]\n    where: {\"kind; drop\": A}\n    parent: {entity: p, on: {p_id: id}}\n"), wantProblem{"entities.c.where.kind; drop", 12, "not a valid column name", ""}},
		{"where column anonymized", doc(root + "  c:\n    table: c\n    key: [id]\n    where: {kind: A}\n    parent: {entity: p, on: {p_id: id}}\n    fields:\n      kind: {category: identificacao, anonymizer: redact}\n"),
			wantProblem{"entities.c.fields.kind", 15, "move the row out of the entity", "contexto"}},

		// Fields.
		{"fields not a mapping", doc(root + "    fields: [nome]\n"), wantProblem{"entities.p.fields", 9, "must be a mapping", ""}},
		{"bad field column", doc(root + "    fields:\n      \"no me\": {category: contato}\n"), wantProblem{"entities.p.fields.no me", 10, "not a valid column name", ""}},
		{"duplicate field", doc(root + "    fields:\n      nome: {category: identificacao}\n      nome: {category: contato}\n"), wantProblem{"entities.p.fields.nome", 11, `duplicate key "nome"`, "only one"}},
		{"unknown field key", doc(root + "    fields:\n      nome: {category: identificacao, anonimizer: fake.name}\n"), wantProblem{"entities.p.fields.nome.anonimizer", 10, `unknown key "anonimizer"`, `did you mean "anonymizer"?`}},
		{"missing category", doc(root + "    fields:\n      nome: {anonymizer: fake.name}\n"), wantProblem{"entities.p.fields.nome.category", 10, "missing category", "identificacao"}},
		{"unknown category", doc(root + "    fields:\n      email: {category: contatos}\n"), wantProblem{"entities.p.fields.email.category", 10, `unknown category "contatos"`, `did you mean "contato"?`}},
		{"english category", doc(root + "    fields:\n      saude: {category: health}\n"), wantProblem{"entities.p.fields.saude.category", 10, `unknown category "health"`, "saude"}},
		{"unknown validate", doc(root + "    fields:\n      doc: {category: documental, validate: cnpjj}\n"), wantProblem{"entities.p.fields.doc.validate", 10, `unknown validation "cnpjj"`, `did you mean "cnpj"?`}},
		{"unknown anonymizer", doc(root + "    fields:\n      nome: {category: identificacao, anonymizer: fake.nome}\n"), wantProblem{"entities.p.fields.nome.anonymizer", 10, `unknown anonymizer "fake.nome"`, `did you mean "fake.name"?`}},
		{"unknown anonymizer in mapping", doc(root + "    fields:\n      nome:\n        category: identificacao\n        anonymizer: {name: mask2, params: {keep: 3}}\n"), wantProblem{"entities.p.fields.nome.anonymizer.name", 12, `unknown anonymizer "mask2"`, `did you mean "mask"?`}},
		{"anonymizer without name", doc(root + "    fields:\n      nome:\n        category: identificacao\n        anonymizer: {params: {keep: 3}}\n"), wantProblem{"entities.p.fields.nome.anonymizer.name", 12, "missing name", ""}},
		{"anonymizer params not a mapping", doc(root + "    fields:\n      nome:\n        category: identificacao\n        anonymizer: {name: mask, params: [3]}\n"), wantProblem{"entities.p.fields.nome.anonymizer.params", 12, "params must be a mapping", ""}},
		{"anonymizer unknown key", doc(root + "    fields:\n      nome:\n        category: identificacao\n        anonymizer: {name: mask, param: {keep: 3}}\n"), wantProblem{"entities.p.fields.nome.anonymizer.param", 12, `unknown key "param"`, `did you mean "params"?`}},
		{"correctable number", doc(root + "    fields:\n      nome: {category: identificacao, correctable: 5}\n"), wantProblem{"entities.p.fields.nome.correctable", 10, "true, false or a field name", ""}},
		{"correctable bad name", doc(root + "    fields:\n      mail: {category: contato, correctable: e-mail}\n"), wantProblem{"entities.p.fields.mail.correctable", 10, "not a valid logical field name", ""}},
		{"correctable conflict", doc(root + "    fields:\n      email: {category: contato, correctable: true, validate: email}\n  q:\n    table: q\n    key: [id]\n    match: {cpf: cpf}\n    fields:\n      contato: {category: contato, correctable: email, validate: phone}\n"),
			wantProblem{"entities.q.fields.contato.validate", 16, `correctable field "email" is validated as phone here but as email`, "same validate"}},
		{"label not text", doc(root + "    fields:\n      nome: {category: identificacao, label: {pt: Nome}}\n"), wantProblem{"entities.p.fields.nome.label", 10, "single text value", ""}},

		// Retention.
		{"retention unknown key", doc(root + "    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: data, on_delet: block}\n"), wantProblem{"entities.p.retention.on_delet", 9, `unknown key "on_delet"`, `did you mean "on_delete"?`}},
		{"retention on_delete", doc(root + "    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: data, on_delete: delete}\n"), wantProblem{"entities.p.retention.on_delete", 9, `unknown on_delete action "delete"`, "block, anonymize"}},
		{"retention zero years", doc(root + "    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 0, from: data}\n"), wantProblem{"entities.p.retention.keep_years", 9, "between 1 and 100", ""}},
		{"retention negative years", doc(root + "    retention: {basis: obrigacao_legal, reference: CTN, keep_years: -5, from: data}\n"), wantProblem{"entities.p.retention.keep_years", 9, "between 1 and 100", ""}},
		{"retention years text", doc(root + "    retention: {basis: obrigacao_legal, reference: CTN, keep_years: cinco, from: data}\n"), wantProblem{"entities.p.retention.keep_years", 9, "whole number", ""}},
		{"retention basis", doc(root + "    retention: {basis: lei, reference: CTN, keep_years: 5, from: data}\n"), wantProblem{"entities.p.retention.basis", 9, `unknown legal basis "lei"`, "obrigacao_legal"}},
		{"retention missing from", doc(root + "    retention:\n      basis: obrigacao_legal\n      reference: CTN\n      keep_years: 5\n"), wantProblem{"entities.p.retention.from", 10, "missing from", "date column"}},
		{"retention missing reference", doc(root + "    retention: {basis: obrigacao_legal, keep_years: 5, from: data}\n"), wantProblem{"entities.p.retention.reference", 9, "missing reference", "Lei"}},
		{"consent evidence without retention", doc(root + "consent_evidence: {}\n"), wantProblem{"consent_evidence.retention", 9, "missing retention", "remove consent_evidence"}},
		{"consent evidence unknown key", doc(root + "consent_evidence: {retencao: {}}\n"), wantProblem{"consent_evidence.retencao", 9, `unknown key "retencao"`, "use one of: retention"}},
		{"consent evidence from", doc(root + "consent_evidence:\n  retention: {basis: exercicio_direitos, reference: CDC art. 27, keep_years: 5, from: at}\n"),
			wantProblem{"consent_evidence.retention.from", 10, `unknown key "from"`, ""}},
		{"consent evidence years", doc(root + "consent_evidence:\n  retention: {basis: exercicio_direitos, reference: CDC art. 27, keep_years: 0}\n"),
			wantProblem{"consent_evidence.retention.keep_years", 10, "between 1 and 100", ""}},
		{"consent evidence basis", doc(root + "consent_evidence:\n  retention: {basis: prova, reference: CDC art. 27, keep_years: 5}\n"),
			wantProblem{"consent_evidence.retention.basis", 10, `unknown legal basis "prova"`, "exercicio_direitos"}},
		{"retention from bad name", doc(root + "    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: data venda}\n"), wantProblem{"entities.p.retention.from", 9, "not a valid column name", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("map.yaml", []byte(tt.yaml))
			if m != nil {
				t.Fatalf("Parse returned a map and %v", err)
			}
			var probs Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			assertProblem(t, probs, tt.want)
		})
	}
}

func assertProblem(t *testing.T, probs Problems, want wantProblem) {
	t.Helper()
	for _, p := range probs {
		if p.Path != want.path || !strings.Contains(p.Message, want.msg) {
			continue
		}
		if p.Line != want.line {
			t.Errorf("problem %q at line %d, want line %d", p, p.Line, want.line)
		}
		if p.Fix == "" || !strings.Contains(p.Fix, want.fix) {
			t.Errorf("problem %q: fix %q should mention %q", p, p.Fix, want.fix)
		}
		if p.File == "" {
			t.Errorf("problem %q does not name the file", p)
		}
		return
	}
	t.Errorf("no problem at %q with message %q; got:\n%v", want.path, want.msg, probs)
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("map.yaml", []byte(doc("  p:\n    tabel: x\n    key: id\n    match: {cpf: cpf}\n    fields:\n      nome: {category: contatos, anonymizer: fake.nme}\n")))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want Problems, got %v", err)
	}
	for _, path := range []string{"entities.p.tabel", "entities.p.table", "entities.p.key", "entities.p.fields.nome.category", "entities.p.fields.nome.anonymizer"} {
		found := false
		for _, p := range probs {
			found = found || p.Path == path
		}
		if !found {
			t.Errorf("no problem at %s in:\n%v", path, probs)
		}
	}
	for i := 1; i < len(probs); i++ {
		if probs[i].Line < probs[i-1].Line {
			t.Errorf("problems not in line order:\n%v", probs)
		}
	}
}

func TestBrokenEntriesDoNotCascade(t *testing.T) {
	// A broken match or parent is reported once, not again as "no root" or
	// "unreachable".
	_, err := Parse("map.yaml", []byte(doc("  p:\n    table: pessoas\n    key: [id]\n    match: {rg: rg}\n  c:\n    table: c\n    key: [id]\n    parent: [p]\n")))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want Problems, got %v", err)
	}
	if len(probs) != 2 {
		t.Errorf("want exactly the match and parent problems, got:\n%v", probs)
	}
}

func TestMissingSubjectDoesNotCascade(t *testing.T) {
	_, err := Parse("map.yaml", []byte("version: 1\nentities:\n"+root))
	var probs Problems
	if !errors.As(err, &probs) || len(probs) != 1 || probs[0].Path != "subject" {
		t.Errorf("want only the missing subject, got:\n%v", err)
	}
}

func TestProblemsError(t *testing.T) {
	ps := Problems{
		{File: "m.yaml", Path: "entities.p.key", Line: 7, Message: "must be a list", Fix: "write key: [id]"},
		{File: "m.yaml", Message: "the file is empty"},
	}
	want := "m.yaml:7: entities.p.key: must be a list (fix: write key: [id])\nm.yaml: the file is empty"
	if got := ps.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

func TestWithAnonymizers(t *testing.T) {
	src := []byte(doc(root + "    fields:\n      nome: {category: identificacao, anonymizer: custom.pseudonym}\n      cpf: {category: identificacao, anonymizer: fake.cpf}\n"))
	if _, err := Parse("map.yaml", src); err == nil {
		t.Fatal("custom.pseudonym accepted without WithAnonymizers")
	}
	known := func(name string) bool { return name == "custom.pseudonym" || name == "fake.cpf" }
	m, err := Parse("map.yaml", src, WithAnonymizers(known))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := m.Entity("p").Field("nome"); f.Anonymizer.Name != "custom.pseudonym" {
		t.Errorf("anonymizer = %+v", f.Anonymizer)
	}
	// The registry decides: a built-in it lacks is refused.
	_, err = Parse("map.yaml", []byte(doc(root+"    fields:\n      nome: {category: identificacao, anonymizer: fake.name}\n")), WithAnonymizers(known))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want Problems, got %v", err)
	}
	assertProblem(t, probs, wantProblem{"entities.p.fields.nome.anonymizer", 10, `unknown anonymizer "fake.name"`, "fake.cpf"})
}

func TestFieldValues(t *testing.T) {
	m, err := Parse("map.yaml", []byte(doc(root+`    fields:
      nome_completo: {category: identificacao, correctable: true}
      email_secundario: {category: contato, correctable: email, validate: email, label: "E-mail (outro)"}
      dataNascimento: {category: identificacao, correctable: false}
      renda: {category: financeiro, anonymizer: {name: generalize.bucket, params: {step: 500, unit: BRL}}}
      status: {category: contexto}
`)))
	if err != nil {
		t.Fatal(err)
	}
	e := m.Entity("p")
	tests := []struct {
		column, label, correctable string
	}{
		{"nome_completo", "Nome completo", "nome_completo"},
		{"email_secundario", "E-mail (outro)", "email"},
		{"dataNascimento", "Data nascimento", ""},
		{"status", "Status", ""},
	}
	for _, tt := range tests {
		f, ok := e.Field(tt.column)
		if !ok {
			t.Fatalf("field %s missing", tt.column)
		}
		if f.Label != tt.label || f.Correctable != tt.correctable {
			t.Errorf("%s: label %q correctable %q, want %q %q", tt.column, f.Label, f.Correctable, tt.label, tt.correctable)
		}
	}
	f, _ := e.Field("renda")
	if f.Anonymizer.Name != "generalize.bucket" || f.Anonymizer.Params["step"] != 500 || f.Anonymizer.Params["unit"] != "BRL" {
		t.Errorf("anonymizer = %+v", f.Anonymizer)
	}
	if _, ok := e.Field("nope"); ok {
		t.Error("Field(nope) found")
	}
	if got := len(e.PersonalFields()); got != 4 {
		t.Errorf("PersonalFields = %d, want 4 (all but contexto)", got)
	}
}

// TestParseWhere: where constants parse in document order, booleans become
// 1/0 as MySQL stores them, and the map round-trips through the encoder.
func TestParseWhere(t *testing.T) {
	src := doc(root + "  link:\n    table: rel\n    key: [id]\n    where: {bean_module: Contacts, deleted: false, rank: 2}\n    parent: {entity: p, on: {bean_id: id}}\n")
	m, err := Parse("map.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Condition{{"bean_module", "Contacts"}, {"deleted", "0"}, {"rank", "2"}}
	if got := m.Entity("link").Where; !slicesEqual(got, want) {
		t.Fatalf("where = %+v, want %+v", got, want)
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("back.yaml", out)
	if err != nil {
		t.Fatalf("the encoded map does not parse: %v\n%s", err, out)
	}
	if got := back.Entity("link").Where; !slicesEqual(got, want) {
		t.Fatalf("after a round trip where = %+v, want %+v\n%s", got, want, out)
	}
}

func slicesEqual(a, b []Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
