package crmtest

import (
	"fmt"
	"strings"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
)

// polyDDL is an open-source CRM shaped like SuiteCRM/SugarCRM: no foreign
// keys at all, CHAR(36) UUID keys, soft-delete flags, custom fields in
// *_cstm tables, e-mail addresses shared through a polymorphic relation
// table (bean_id + bean_module), a join table, activities hung on a parent
// of any type (parent_type + parent_id), CRM users assigned to nearly every
// row, and id columns whose names contain "email" (email_id,
// email_address_id) beside opt-out flags.
var polyDDL = []string{
	`CREATE TABLE users (
		id CHAR(36) NOT NULL PRIMARY KEY,
		user_name VARCHAR(60) NULL,
		first_name VARCHAR(30) NULL,
		last_name VARCHAR(30) NULL,
		status VARCHAR(100) NULL,
		is_admin TINYINT(1) DEFAULT 0,
		date_entered DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0
	) ENGINE=InnoDB`,
	`CREATE TABLE accounts (
		id CHAR(36) NOT NULL PRIMARY KEY,
		name VARCHAR(150) NULL,
		account_type VARCHAR(50) NULL,
		industry VARCHAR(50) NULL,
		billing_address_city VARCHAR(100) NULL,
		billing_address_state VARCHAR(100) NULL,
		phone_office VARCHAR(100) NULL,
		assigned_user_id CHAR(36) NULL,
		date_entered DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_accnt_assigned (assigned_user_id)
	) ENGINE=InnoDB`,
	`CREATE TABLE contacts (
		id CHAR(36) NOT NULL PRIMARY KEY,
		salutation VARCHAR(255) NULL,
		first_name VARCHAR(100) NULL,
		last_name VARCHAR(100) NULL,
		title VARCHAR(100) NULL,
		department VARCHAR(255) NULL,
		do_not_call TINYINT(1) DEFAULT 0,
		phone_mobile VARCHAR(100) NULL,
		phone_work VARCHAR(100) NULL,
		primary_address_street VARCHAR(150) NULL,
		primary_address_city VARCHAR(100) NULL,
		primary_address_state VARCHAR(100) NULL,
		primary_address_postalcode VARCHAR(20) NULL,
		primary_address_country VARCHAR(255) NULL,
		birthdate DATE NULL,
		lead_source VARCHAR(255) NULL,
		assigned_user_id CHAR(36) NULL,
		created_by CHAR(36) NULL,
		date_entered DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_cont_last_first (last_name, first_name, deleted),
		KEY idx_cont_assigned (assigned_user_id),
		KEY idx_cont_phone_mobile (phone_mobile)
	) ENGINE=InnoDB`,
	`CREATE TABLE contacts_cstm (
		id_c CHAR(36) NOT NULL PRIMARY KEY,
		cpf_c VARCHAR(14) NULL,
		segment_c VARCHAR(40) NULL
	) ENGINE=InnoDB`,
	`CREATE TABLE leads (
		id CHAR(36) NOT NULL PRIMARY KEY,
		salutation VARCHAR(255) NULL,
		first_name VARCHAR(100) NULL,
		last_name VARCHAR(100) NULL,
		title VARCHAR(100) NULL,
		phone_mobile VARCHAR(100) NULL,
		phone_work VARCHAR(100) NULL,
		primary_address_street VARCHAR(150) NULL,
		primary_address_city VARCHAR(100) NULL,
		primary_address_state VARCHAR(100) NULL,
		primary_address_postalcode VARCHAR(20) NULL,
		status VARCHAR(100) NULL,
		converted TINYINT(1) DEFAULT 0,
		contact_id CHAR(36) NULL,
		account_name VARCHAR(255) NULL,
		lead_source VARCHAR(100) NULL,
		assigned_user_id CHAR(36) NULL,
		date_entered DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_lead_contact (contact_id),
		KEY idx_lead_phone_mobile (phone_mobile)
	) ENGINE=InnoDB`,
	`CREATE TABLE leads_cstm (
		id_c CHAR(36) NOT NULL PRIMARY KEY,
		cpf_c VARCHAR(14) NULL,
		interest_c VARCHAR(60) NULL
	) ENGINE=InnoDB`,
	`CREATE TABLE email_addresses (
		id CHAR(36) NOT NULL PRIMARY KEY,
		email_address VARCHAR(255) NULL,
		email_address_caps VARCHAR(255) NULL,
		invalid_email TINYINT(1) DEFAULT 0,
		opt_out TINYINT(1) DEFAULT 0,
		confirm_opt_in VARCHAR(255) DEFAULT 'not-opt-in',
		date_created DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_ea_caps_opt_out_invalid (email_address_caps, opt_out, invalid_email),
		KEY idx_ea_opt_out_invalid (email_address, opt_out, invalid_email)
	) ENGINE=InnoDB`,
	`CREATE TABLE email_addr_bean_rel (
		id CHAR(36) NOT NULL PRIMARY KEY,
		email_address_id CHAR(36) NOT NULL,
		bean_id CHAR(36) NULL,
		bean_module VARCHAR(100) NULL,
		primary_address TINYINT(1) DEFAULT 0,
		reply_to_address TINYINT(1) DEFAULT 0,
		date_created DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_email_address_id (email_address_id),
		KEY idx_bean_id (bean_id, bean_module)
	) ENGINE=InnoDB`,
	`CREATE TABLE accounts_contacts (
		id CHAR(36) NOT NULL PRIMARY KEY,
		contact_id CHAR(36) NULL,
		account_id CHAR(36) NULL,
		date_modified DATETIME NULL,
		deleted TINYINT(1) NOT NULL DEFAULT 0,
		KEY idx_account_contact (account_id, contact_id),
		KEY idx_contid_del_accid (contact_id, deleted, account_id)
	) ENGINE=InnoDB`,
	`CREATE TABLE calls (
		id CHAR(36) NOT NULL PRIMARY KEY,
		name VARCHAR(50) NULL,
		duration_minutes INT NULL,
		date_start DATETIME NULL,
		parent_type VARCHAR(255) NULL,
		parent_id CHAR(36) NULL,
		status VARCHAR(100) NULL,
		direction VARCHAR(100) NULL,
		description TEXT NULL,
		assigned_user_id CHAR(36) NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_call_parent (parent_id, parent_type, deleted)
	) ENGINE=InnoDB`,
	`CREATE TABLE notes (
		id CHAR(36) NOT NULL PRIMARY KEY,
		name VARCHAR(255) NULL,
		filename VARCHAR(255) NULL,
		parent_type VARCHAR(255) NULL,
		parent_id CHAR(36) NULL,
		contact_id CHAR(36) NULL,
		description TEXT NULL,
		assigned_user_id CHAR(36) NULL,
		date_entered DATETIME NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_note_parent (parent_id, parent_type),
		KEY idx_note_contact (contact_id)
	) ENGINE=InnoDB`,
	`CREATE TABLE emails (
		id CHAR(36) NOT NULL PRIMARY KEY,
		name VARCHAR(255) NULL,
		date_sent_received DATETIME NULL,
		type VARCHAR(100) NULL,
		status VARCHAR(100) NULL,
		parent_type VARCHAR(100) NULL,
		parent_id CHAR(36) NULL,
		assigned_user_id CHAR(36) NULL,
		deleted TINYINT(1) DEFAULT 0,
		KEY idx_email_parent_id (parent_id)
	) ENGINE=InnoDB`,
	`CREATE TABLE emails_text (
		email_id CHAR(36) NOT NULL PRIMARY KEY,
		from_addr VARCHAR(255) NULL,
		to_addrs TEXT NULL,
		description TEXT NULL,
		deleted TINYINT(1) DEFAULT 0
	) ENGINE=InnoDB`,
	`CREATE TABLE config (
		category VARCHAR(32) NOT NULL,
		name VARCHAR(32) NOT NULL,
		value TEXT NULL,
		PRIMARY KEY (category, name)
	) ENGINE=InnoDB`,
}

// PolyContacts and PolyLeadsOnly are how many contacts, and leads never
// converted, the polycrm seed holds (each a titular).
const (
	PolyContacts  = 220
	PolyLeadsOnly = 80
)

// PolyCRM is the SuiteCRM-like fixture. A contact's rows: the contact and
// its contacts_cstm row; the e-mail links (email_addr_bean_rel, module
// Contacts) and the addresses they link; their accounts_contacts links; the
// calls, notes and emails (and emails_text) whose parent is the contact, and
// notes naming them in contact_id; the lead they were converted from (leads
// with contact_id), its leads_cstm, its e-mail links (module Leads) and its
// calls and notes. A lead never converted: the lead, its leads_cstm, e-mail
// links and addresses, calls and notes. Users, accounts (companies, their
// e-mail links and addresses) and config are shared context. Soft-deleted
// rows (deleted = 1) are still the titular's.
func PolyCRM() *Fixture {
	f := &Fixture{Name: "polycrm", ddl: polyDDL, Tables: []string{
		"users", "accounts", "contacts", "contacts_cstm", "leads", "leads_cstm", "email_addresses",
		"email_addr_bean_rel", "accounts_contacts", "calls", "notes", "emails", "emails_text", "config",
	}}
	s := newSynth(2)
	f.add("config", []string{"category", "name", "value"}, "system", "name", "CRM Imobiliária Exemplo")
	f.add("config", []string{"category", "name", "value"}, "notify", "fromaddress", "crm@empresa.example.org")

	eaCols := []string{"id", "email_address", "email_address_caps", "invalid_email", "opt_out", "confirm_opt_in", "date_created", "deleted"}
	relCols := []string{"id", "email_address_id", "bean_id", "bean_module", "primary_address", "reply_to_address", "date_created", "deleted"}
	addEmail := func(addr string, optOut bool) string {
		id := s.uuid()
		o := 0
		if optOut {
			o = 1
		}
		f.add("email_addresses", eaCols, id, addr, strings.ToUpper(addr), 0, o, "not-opt-in", s.when(), 0)
		return id
	}
	link := func(emailID, bean, module string, primary, deleted int) {
		f.add("email_addr_bean_rel", relCols, s.uuid(), emailID, bean, module, primary, 0, s.when(), deleted)
	}

	userCols := []string{"id", "user_name", "first_name", "last_name", "status", "is_admin", "date_entered", "deleted"}
	var users []string
	for i := 1; i <= 8; i++ {
		id := s.uuid()
		users = append(users, id)
		first, last := s.name()
		f.add("users", userCols, id, fmt.Sprintf("user%d", i), first, last, "Active", b2i(i == 1), s.when(), 0)
		link(addEmail(fmt.Sprintf("usuario%d@empresa.example.org", i), false), id, "Users", 1, 0)
	}
	user := func() string { return users[s.n(len(users))] }

	accCols := []string{"id", "name", "account_type", "industry", "billing_address_city", "billing_address_state", "phone_office", "assigned_user_id", "date_entered", "deleted"}
	var accounts []string
	for i := 1; i <= 25; i++ {
		id := s.uuid()
		accounts = append(accounts, id)
		pl := places[s.n(len(places))]
		f.add("accounts", accCols, id, fmt.Sprintf("Empresa Exemplo %d Ltda", i), "Customer", []string{"Construção", "Varejo", "Tecnologia"}[s.n(3)],
			pl.city, pl.uf, brdoc.PhoneShapes(brdoc.PhoneFromSeed(uint64(7000+i), false))[3], user(), s.when(), 0)
		link(addEmail(fmt.Sprintf("contato@empresa%d.example.org", i), false), id, "Accounts", 1, 0)
	}

	contactCols := []string{"id", "salutation", "first_name", "last_name", "title", "department", "do_not_call", "phone_mobile", "phone_work",
		"primary_address_street", "primary_address_city", "primary_address_state", "primary_address_postalcode", "primary_address_country",
		"birthdate", "lead_source", "assigned_user_id", "created_by", "date_entered", "deleted"}
	leadCols := []string{"id", "salutation", "first_name", "last_name", "title", "phone_mobile", "phone_work",
		"primary_address_street", "primary_address_city", "primary_address_state", "primary_address_postalcode",
		"status", "converted", "contact_id", "account_name", "lead_source", "assigned_user_id", "date_entered", "deleted"}
	callCols := []string{"id", "name", "duration_minutes", "date_start", "parent_type", "parent_id", "status", "direction", "description", "assigned_user_id", "deleted"}
	noteCols := []string{"id", "name", "filename", "parent_type", "parent_id", "contact_id", "description", "assigned_user_id", "date_entered", "deleted"}
	emailCols := []string{"id", "name", "date_sent_received", "type", "status", "parent_type", "parent_id", "assigned_user_id", "deleted"}
	textCols := []string{"email_id", "from_addr", "to_addrs", "description", "deleted"}

	activities := func(parent, module string) {
		for range s.n(3) {
			f.add("calls", callCols, s.uuid(), "Retorno sobre proposta", 5+s.n(40), s.when(), module, parent, "Held",
				[]string{"Inbound", "Outbound"}[s.n(2)], "Cliente pediu nova simulação de financiamento.", user(), b2i(s.chance(1, 15)))
		}
		for range s.n(3) {
			f.add("notes", noteCols, s.uuid(), "Visita ao imóvel", nil, module, parent, nil,
				"Gostou do apartamento; pediu desconto.", user(), s.when(), b2i(s.chance(1, 15)))
		}
	}
	salutations := []string{"Sr.", "Sra.", "Mr.", "Ms.", "Dr."}

	for i := 1; i <= PolyContacts+PolyLeadsOnly; i++ {
		first, last := s.name()
		var ids crm.Identifiers
		var mobile, cpf any
		if !s.chance(1, 8) {
			ids.Phone = brdoc.PhoneFromSeed(uint64(500000+i), true)
			mobile = brdoc.PhoneShapes(ids.Phone)[[]int{0, 3, 8}[s.n(3)]]
		}
		if !s.chance(1, 6) {
			ids.CPF = brdoc.CPFFromSeed(uint64(600000 + i))
			cpf = brdoc.CPFShapes(ids.CPF)[1]
		}
		hasEmail := !s.chance(1, 10)
		if hasEmail {
			ids.Email = email(first, last, i)
		}
		pl := places[s.n(len(places))]
		street := fmt.Sprintf("%s, %d", s.pick(streets), 1+s.n(3000))
		cep := s.orNull(brdoc.FormatCEP(brdoc.CEPFromSeed(uint64(i)*104729)), 8)
		var emailID string
		if hasEmail {
			emailID = addEmail(ids.Email, s.chance(1, 5))
		}
		if i <= PolyContacts {
			id := s.uuid()
			f.add("contacts", contactCols, id, s.pick(salutations), first, last, s.orNull("Gerente", 3), nil, b2i(s.chance(1, 10)), mobile,
				s.orNull(brdoc.PhoneShapes(brdoc.PhoneFromSeed(uint64(550000+i), false))[3], 2),
				street, pl.city, pl.uf, cep, "Brasil", s.orNull(s.birth(), 4), "Web Site", user(), user(), s.when(), b2i(s.chance(1, 25)))
			f.add("contacts_cstm", []string{"id_c", "cpf_c", "segment_c"}, id, cpf, []string{"residencial", "comercial"}[s.n(2)])
			if hasEmail {
				link(emailID, id, "Contacts", 1, 0)
				if s.chance(1, 10) { // an old, soft-deleted link to the same address
					link(emailID, id, "Contacts", 0, 1)
				}
			}
			for range s.n(3) {
				f.add("accounts_contacts", []string{"id", "contact_id", "account_id", "date_modified", "deleted"},
					s.uuid(), id, accounts[s.n(len(accounts))], s.when(), b2i(s.chance(1, 10)))
			}
			activities(id, "Contacts")
			if s.chance(1, 4) { // a note filed under the company, naming the contact
				f.add("notes", noteCols, s.uuid(), "Reunião na empresa", nil, "Accounts", accounts[s.n(len(accounts))], id,
					"Reunião com o contato sobre a locação.", user(), s.when(), 0)
			}
			for range s.n(2) {
				eid := s.uuid()
				f.add("emails", emailCols, eid, "Proposta de locação", s.when(), "out", "sent", "Contacts", id, user(), 0)
				to := "(sem endereço)"
				if hasEmail {
					to = ids.Email
				}
				f.add("emails_text", textCols, eid, "vendas@empresa.example.org", to, "Segue a proposta conforme conversamos.", 0)
			}
			if s.chance(1, 3) { // converted from a lead
				lid := s.uuid()
				f.add("leads", leadCols, lid, s.pick(salutations), first, last, nil, mobile, nil, street, pl.city, pl.uf, cep,
					"Converted", 1, id, nil, "Cold Call", user(), s.when(), 0)
				f.add("leads_cstm", []string{"id_c", "cpf_c", "interest_c"}, lid, cpf, "compra")
				if hasEmail {
					link(emailID, lid, "Leads", 1, 0)
				}
				activities(lid, "Leads")
			}
			f.People = append(f.People, Person{Label: fmt.Sprintf("contact %d", i), IDs: ids, Ref: []any{"Contacts", id}})
			continue
		}
		lid := s.uuid()
		f.add("leads", leadCols, lid, s.pick(salutations), first, last, nil, mobile, nil, street, pl.city, pl.uf, cep,
			[]string{"New", "Assigned", "In Process", "Dead"}[s.n(4)], 0, nil, s.orNull("Empresa Exemplo Ltda", 3), "Web Site", user(), s.when(), b2i(s.chance(1, 25)))
		f.add("leads_cstm", []string{"id_c", "cpf_c", "interest_c"}, lid, cpf, "locação")
		if hasEmail {
			link(emailID, lid, "Leads", 1, 0)
		}
		activities(lid, "Leads")
		f.People = append(f.People, Person{Label: fmt.Sprintf("lead %d", i), IDs: ids, Ref: []any{"Leads", lid}})
	}
	f.Samples = samples(f.People)
	// A lead never converted, too.
	for _, p := range f.People[PolyContacts:] {
		if p.IDs.CPF != "" && p.IDs.Email != "" {
			f.Samples = append(f.Samples, p)
			break
		}
	}
	f.truth = polyTruth
	return f
}

// polyTruth lists a contact's or a lead's rows in the polycrm fixture.
func polyTruth(p Person) []TruthQuery {
	module, id := p.Ref[0].(string), p.Ref[1]
	// The titular's beans: (module, id) pairs, the contact and the lead it
	// was converted from, or the lead alone.
	beans := `SELECT 'Leads' AS m, id FROM leads WHERE id = ? OR contact_id = ?
		UNION SELECT 'Contacts', id FROM contacts WHERE id = ?`
	args := []any{id, id, id}
	if module == "Leads" {
		beans = `SELECT 'Leads' AS m, id FROM leads WHERE id = ? OR id = ? OR id = ?`
	}
	in := "(SELECT m, id FROM (" + beans + ") b)"
	return []TruthQuery{
		{"contacts", "SELECT id FROM contacts WHERE ('Contacts', id) IN " + in, args},
		{"contacts_cstm", "SELECT id_c FROM contacts_cstm WHERE ('Contacts', id_c) IN " + in, args},
		{"leads", "SELECT id FROM leads WHERE ('Leads', id) IN " + in, args},
		{"leads_cstm", "SELECT id_c FROM leads_cstm WHERE ('Leads', id_c) IN " + in, args},
		{"email_addr_bean_rel", "SELECT id FROM email_addr_bean_rel WHERE (bean_module, bean_id) IN " + in, args},
		{"email_addresses", "SELECT id FROM email_addresses WHERE id IN (SELECT email_address_id FROM email_addr_bean_rel WHERE (bean_module, bean_id) IN " + in + ")", args},
		{"accounts_contacts", "SELECT id FROM accounts_contacts WHERE ('Contacts', contact_id) IN " + in, args},
		{"calls", "SELECT id FROM calls WHERE (parent_type, parent_id) IN " + in, args},
		{"notes", "SELECT id FROM notes WHERE (parent_type, parent_id) IN " + in + " OR ('Contacts', contact_id) IN " + in, append(append([]any{}, args...), args...)},
		{"emails", "SELECT id FROM emails WHERE (parent_type, parent_id) IN " + in, args},
		{"emails_text", "SELECT email_id FROM emails_text WHERE email_id IN (SELECT id FROM emails WHERE (parent_type, parent_id) IN " + in + ")", args},
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
