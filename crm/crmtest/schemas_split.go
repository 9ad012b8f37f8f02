package crmtest

import (
	"fmt"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
)

// splitDDL is a registry keyed by branch: composite keys everywhere, a person
// split in two tables (person, person_details), numbered addresses, brokers
// (agent) shared by many contracts and with e-mails of their own, contracts
// and their installments. person_no repeats across branches, so a join on
// person_no alone reaches other people.
var splitDDL = []string{
	`CREATE TABLE person (
		branch_code CHAR(3) NOT NULL,
		person_no INT UNSIGNED NOT NULL,
		full_name VARCHAR(120) NOT NULL,
		email VARCHAR(120) NULL,
		created_at DATETIME NOT NULL,
		PRIMARY KEY (branch_code, person_no),
		UNIQUE KEY uq_person_email (email)
	) ENGINE=InnoDB`,
	`CREATE TABLE person_details (
		branch_code CHAR(3) NOT NULL,
		person_no INT UNSIGNED NOT NULL,
		cpf CHAR(11) NULL,
		birth_date DATE NULL,
		mother_name VARCHAR(120) NULL,
		phone VARCHAR(20) NULL,
		PRIMARY KEY (branch_code, person_no),
		KEY idx_details_cpf (cpf),
		CONSTRAINT fk_details_person FOREIGN KEY (branch_code, person_no) REFERENCES person (branch_code, person_no) ON DELETE RESTRICT
	) ENGINE=InnoDB`,
	`CREATE TABLE person_address (
		branch_code CHAR(3) NOT NULL,
		person_no INT UNSIGNED NOT NULL,
		seq TINYINT UNSIGNED NOT NULL,
		street VARCHAR(100) NOT NULL,
		number VARCHAR(10) NULL,
		complement VARCHAR(60) NULL,
		district VARCHAR(60) NULL,
		city VARCHAR(60) NOT NULL,
		state CHAR(2) NOT NULL,
		postal_code CHAR(8) NULL,
		PRIMARY KEY (branch_code, person_no, seq),
		CONSTRAINT fk_address_person FOREIGN KEY (branch_code, person_no) REFERENCES person (branch_code, person_no) ON DELETE RESTRICT
	) ENGINE=InnoDB`,
	`CREATE TABLE agent (
		agent_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		name VARCHAR(120) NOT NULL,
		email VARCHAR(120) NOT NULL,
		creci VARCHAR(12) NOT NULL,
		UNIQUE KEY uq_agent_email (email)
	) ENGINE=InnoDB`,
	`CREATE TABLE contract (
		branch_code CHAR(3) NOT NULL,
		contract_no INT UNSIGNED NOT NULL,
		person_no INT UNSIGNED NOT NULL,
		agent_id INT UNSIGNED NOT NULL,
		signed_on DATE NOT NULL,
		total DECIMAL(12,2) NOT NULL,
		status VARCHAR(12) NOT NULL,
		PRIMARY KEY (branch_code, contract_no),
		KEY idx_contract_person (branch_code, person_no),
		CONSTRAINT fk_contract_person FOREIGN KEY (branch_code, person_no) REFERENCES person (branch_code, person_no) ON DELETE RESTRICT,
		CONSTRAINT fk_contract_agent FOREIGN KEY (agent_id) REFERENCES agent (agent_id) ON DELETE RESTRICT
	) ENGINE=InnoDB`,
	`CREATE TABLE installment (
		branch_code CHAR(3) NOT NULL,
		contract_no INT UNSIGNED NOT NULL,
		n SMALLINT UNSIGNED NOT NULL,
		due_date DATE NOT NULL,
		amount DECIMAL(12,2) NOT NULL,
		paid_on DATE NULL,
		PRIMARY KEY (branch_code, contract_no, n),
		CONSTRAINT fk_installment_contract FOREIGN KEY (branch_code, contract_no) REFERENCES contract (branch_code, contract_no) ON DELETE CASCADE
	) ENGINE=InnoDB`,
}

// SplitBranches are the split fixture's branches; person_no restarts at 1 in
// each.
var SplitBranches = []string{"SP1", "RJ1", "BH1"}

// SplitPerBranch is how many people each branch of the split seed holds.
const SplitPerBranch = 100

// Split is the composite-key fixture. A titular's rows are their person and
// person_details rows, their addresses, contracts and those contracts'
// installments; agents are shared context (each serves many contracts).
// Agents are titulares too (Others: their own row only), never in the
// samples; a map that hangs contracts under their agent answers an agent's
// EXTRACT with clients' contracts.
func Split() *Fixture {
	f := &Fixture{Name: "split", ddl: splitDDL, Tables: []string{
		"person", "person_details", "person_address", "agent", "contract", "installment",
	}}
	s := newSynth(3)
	agentCols := []string{"agent_id", "name", "email", "creci"}
	const agents = 8
	for i := 1; i <= agents; i++ {
		first, last := s.name()
		mail := fmt.Sprintf("corretor%d@imoveis.example.org", i)
		f.add("agent", agentCols, i, first+" "+last, mail, fmt.Sprintf("%05d-F", 10000+s.n(89999)))
		f.Others = append(f.Others, Person{Label: fmt.Sprintf("agent %d", i), IDs: crm.Identifiers{Email: mail}, Ref: []any{"agent", i}})
	}
	personCols := []string{"branch_code", "person_no", "full_name", "email", "created_at"}
	detailCols := []string{"branch_code", "person_no", "cpf", "birth_date", "mother_name", "phone"}
	addrCols := []string{"branch_code", "person_no", "seq", "street", "number", "complement", "district", "city", "state", "postal_code"}
	contractCols := []string{"branch_code", "contract_no", "person_no", "agent_id", "signed_on", "total", "status"}
	instCols := []string{"branch_code", "contract_no", "n", "due_date", "amount", "paid_on"}
	k := 0
	for b, branch := range SplitBranches {
		contract := 0
		for no := 1; no <= SplitPerBranch; no++ {
			k++
			first, last := s.name()
			var ids crm.Identifiers
			var mail, cpf, phone any
			if !s.chance(1, 8) {
				ids.Email = email(first, last, k)
				mail = ids.Email
			}
			f.add("person", personCols, branch, no, first+" "+last, mail, s.when())
			// One person in twelve has no details row at all.
			if !s.chance(1, 12) {
				if !s.chance(1, 10) {
					ids.CPF = brdoc.CPFFromSeed(uint64(300000 + k))
					cpf = ids.CPF
				}
				if !s.chance(1, 6) {
					ids.Phone = brdoc.PhoneFromSeed(uint64(400000+k), s.chance(3, 4))
					phone = brdoc.PhoneShapes(ids.Phone)[3]
				}
				mf, ml := s.name()
				f.add("person_details", detailCols, branch, no, cpf, s.orNull(s.birth(), 20), s.orNull(mf+" "+ml, 5), phone)
			}
			for seq := 1; seq <= s.n(3); seq++ {
				pl := places[s.n(len(places))]
				var compl any
				if s.chance(1, 3) {
					compl = fmt.Sprintf("Casa %d", 1+s.n(9))
				}
				f.add("person_address", addrCols, branch, no, seq, s.pick(streets), s.orNull(fmt.Sprint(1+s.n(2000)), 8), compl,
					s.pick(districts), pl.city, pl.uf, s.orNull(brdoc.CEPFromSeed(uint64(k*10+seq)), 10))
			}
			for range s.n(3) {
				contract++
				n := 1 + s.n(12)
				f.add("contract", contractCols, branch, contract, no, 1+(b*3+s.n(agents))%agents, s.date(),
					fmt.Sprintf("%d.00", n*(500+s.n(3000))), []string{"ativo", "quitado", "cancelado"}[s.n(3)])
				for i := 1; i <= n; i++ {
					var paid any
					if s.chance(2, 3) {
						paid = s.date()
					}
					f.add("installment", instCols, branch, contract, i, s.date(), fmt.Sprintf("%d.%02d", 500+s.n(3000), s.n(100)), paid)
				}
			}
			f.People = append(f.People, Person{Label: fmt.Sprintf("person %s/%d", branch, no), IDs: ids, Ref: []any{branch, no}})
		}
	}
	f.Samples = samples(f.People)
	f.truth = func(p Person) []TruthQuery {
		if p.Ref[0] == "agent" {
			// A broker's own row only: the contracts they serve are their
			// clients'.
			return []TruthQuery{{"agent", "SELECT agent_id FROM agent WHERE agent_id = ?", []any{p.Ref[1]}}}
		}
		br, no := p.Ref[0], p.Ref[1]
		return []TruthQuery{
			{"person", "SELECT branch_code, person_no FROM person WHERE branch_code = ? AND person_no = ?", []any{br, no}},
			{"person_details", "SELECT branch_code, person_no FROM person_details WHERE branch_code = ? AND person_no = ?", []any{br, no}},
			{"person_address", "SELECT branch_code, person_no, seq FROM person_address WHERE branch_code = ? AND person_no = ?", []any{br, no}},
			{"contract", "SELECT branch_code, contract_no FROM contract WHERE branch_code = ? AND person_no = ?", []any{br, no}},
			{"installment", `SELECT i.branch_code, i.contract_no, i.n FROM installment i
				JOIN contract c ON c.branch_code = i.branch_code AND c.contract_no = i.contract_no
				WHERE c.branch_code = ? AND c.person_no = ?`, []any{br, no}},
		}
	}
	return f
}
