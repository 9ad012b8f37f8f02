package crmtest

import (
	"fmt"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
)

// shopDDL is a small rental business shaped like the Sakila/Pagila sample
// database: foreign keys from people to shared rows (a customer to their
// store) and from shared rows to people (a store to its manager, a payment
// to the employee who took it), each customer with an address of their own
// (ON DELETE RESTRICT), shared reference data (city, country, film), columns
// the server rewrites on UPDATE, and an audit trigger.
var shopDDL = []string{
	`CREATE TABLE country (
		country_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		country VARCHAR(50) NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
	) ENGINE=InnoDB`,
	`CREATE TABLE city (
		city_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		city VARCHAR(50) NOT NULL,
		uf CHAR(2) NULL,
		country_id INT UNSIGNED NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		CONSTRAINT fk_city_country FOREIGN KEY (country_id) REFERENCES country (country_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`CREATE TABLE address (
		address_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		address VARCHAR(80) NOT NULL,
		address2 VARCHAR(80) NULL,
		district VARCHAR(40) NOT NULL,
		city_id INT UNSIGNED NOT NULL,
		postal_code VARCHAR(10) NULL,
		phone VARCHAR(20) NOT NULL DEFAULT '',
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		KEY idx_fk_city_id (city_id),
		CONSTRAINT fk_address_city FOREIGN KEY (city_id) REFERENCES city (city_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`CREATE TABLE store (
		store_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		manager_staff_id INT UNSIGNED NULL,
		address_id INT UNSIGNED NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		UNIQUE KEY idx_unique_manager (manager_staff_id),
		CONSTRAINT fk_store_address FOREIGN KEY (address_id) REFERENCES address (address_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`CREATE TABLE staff (
		staff_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		first_name VARCHAR(45) NOT NULL,
		last_name VARCHAR(45) NOT NULL,
		address_id INT UNSIGNED NOT NULL,
		email VARCHAR(80) NULL,
		store_id INT UNSIGNED NOT NULL,
		active TINYINT(1) NOT NULL DEFAULT 1,
		username VARCHAR(16) NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		UNIQUE KEY idx_staff_username (username),
		CONSTRAINT fk_staff_store FOREIGN KEY (store_id) REFERENCES store (store_id) ON DELETE RESTRICT ON UPDATE CASCADE,
		CONSTRAINT fk_staff_address FOREIGN KEY (address_id) REFERENCES address (address_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`ALTER TABLE store ADD CONSTRAINT fk_store_staff FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id) ON DELETE RESTRICT ON UPDATE CASCADE`,
	`CREATE TABLE customer (
		customer_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		store_id INT UNSIGNED NOT NULL,
		first_name VARCHAR(45) NOT NULL,
		last_name VARCHAR(45) NOT NULL,
		cpf VARCHAR(14) NULL,
		email VARCHAR(80) NULL,
		address_id INT UNSIGNED NOT NULL,
		active TINYINT(1) NOT NULL DEFAULT 1,
		create_date DATETIME NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		KEY idx_fk_store_id (store_id),
		KEY idx_fk_address_id (address_id),
		KEY idx_last_name (last_name),
		KEY idx_cpf (cpf),
		KEY idx_email (email),
		CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES address (address_id) ON DELETE RESTRICT ON UPDATE CASCADE,
		CONSTRAINT fk_customer_store FOREIGN KEY (store_id) REFERENCES store (store_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`CREATE TABLE customer_audit (
		audit_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		customer_id INT UNSIGNED NOT NULL,
		changed_at DATETIME NOT NULL,
		action VARCHAR(20) NOT NULL,
		old_store_id INT UNSIGNED NULL,
		new_store_id INT UNSIGNED NULL,
		CONSTRAINT fk_audit_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id) ON DELETE RESTRICT
	) ENGINE=InnoDB`,
	// The audit trigger records a customer's deactivation or move to
	// another store (not their personal columns).
	`CREATE TRIGGER customer_audit_upd AFTER UPDATE ON customer FOR EACH ROW
	BEGIN
		IF OLD.active <> NEW.active OR OLD.store_id <> NEW.store_id THEN
			INSERT INTO customer_audit (customer_id, changed_at, action, old_store_id, new_store_id)
			VALUES (NEW.customer_id, NOW(), IF(OLD.active <> NEW.active, 'active', 'store'), OLD.store_id, NEW.store_id);
		END IF;
	END`,
	`CREATE TABLE film (
		film_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		title VARCHAR(128) NOT NULL,
		release_year SMALLINT NULL,
		rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
	) ENGINE=InnoDB`,
	`CREATE TABLE inventory (
		inventory_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		film_id INT UNSIGNED NOT NULL,
		store_id INT UNSIGNED NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id) ON DELETE RESTRICT ON UPDATE CASCADE,
		CONSTRAINT fk_inventory_store FOREIGN KEY (store_id) REFERENCES store (store_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`CREATE TABLE rental (
		rental_id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		rental_date DATETIME NOT NULL,
		inventory_id INT UNSIGNED NOT NULL,
		customer_id INT UNSIGNED NOT NULL,
		return_date DATETIME NULL,
		staff_id INT UNSIGNED NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		CONSTRAINT fk_rental_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id) ON DELETE RESTRICT ON UPDATE CASCADE,
		CONSTRAINT fk_rental_inventory FOREIGN KEY (inventory_id) REFERENCES inventory (inventory_id) ON DELETE RESTRICT ON UPDATE CASCADE,
		CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id) ON DELETE RESTRICT ON UPDATE CASCADE
	) ENGINE=InnoDB`,
	`CREATE TABLE payment (
		payment_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		customer_id INT UNSIGNED NOT NULL,
		staff_id INT UNSIGNED NULL,
		rental_id INT NULL,
		amount DECIMAL(7,2) NOT NULL,
		payment_date DATETIME NOT NULL,
		last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
		CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (rental_id) ON DELETE SET NULL ON UPDATE CASCADE,
		CONSTRAINT fk_payment_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id) ON DELETE RESTRICT ON UPDATE CASCADE,
		CONSTRAINT fk_payment_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id) ON DELETE SET NULL ON UPDATE CASCADE
	) ENGINE=InnoDB`,
}

// ShopCustomers is how many customers the shop seed holds.
const ShopCustomers = 300

// Shop is the rental business (Sakila-like) fixture. Its titulares are the
// customers: a customer's rows are their customer row, their own address,
// their rentals, payments and audit rows. Stores, staff, films, inventory,
// cities and countries are shared context. Employees are titulares too
// (Others: their record and their own address), never in the samples; a map
// that hangs customers' rows under the employee who served them answers an
// employee's EXTRACT with other people's rows.
func Shop() *Fixture {
	f := &Fixture{Name: "shop", ddl: shopDDL, Tables: []string{
		"country", "city", "address", "store", "staff", "customer", "customer_audit",
		"film", "inventory", "rental", "payment",
	}}
	s := newSynth(1)
	countryCols := []string{"country_id", "country", "last_update"}
	for i, c := range []string{"Brasil", "Portugal", "Argentina"} {
		f.add("country", countryCols, i+1, c, "2024-01-01 00:00:00")
	}
	cityCols := []string{"city_id", "city", "uf", "country_id", "last_update"}
	for i, p := range places {
		f.add("city", cityCols, i+1, p.city, p.uf, 1, "2024-01-01 00:00:00")
	}
	f.add("city", cityCols, len(places)+1, "Lisboa", nil, 2, "2024-01-01 00:00:00")
	f.add("city", cityCols, len(places)+2, "Buenos Aires", nil, 3, "2024-01-01 00:00:00")
	nCities := len(places) + 2

	addrCols := []string{"address_id", "address", "address2", "district", "city_id", "postal_code", "phone", "last_update"}
	addrID := 0
	newAddress := func(phone string) int {
		addrID++
		var compl any
		if s.chance(1, 3) {
			compl = fmt.Sprintf("Apto %d", 11+s.n(180))
		}
		f.add("address", addrCols, addrID, fmt.Sprintf("%s, %d", s.pick(streets), 1+s.n(3000)), compl,
			s.pick(districts), 1+s.n(nCities), s.orNull(brdoc.FormatCEP(brdoc.CEPFromSeed(uint64(addrID)*7919)), 15), phone,
			"2024-01-01 00:00:00")
		return addrID
	}

	const stores, staffPerStore = 4, 3
	storeCols := []string{"store_id", "manager_staff_id", "address_id", "last_update"}
	for i := 1; i <= stores; i++ {
		f.add("store", storeCols, i, (i-1)*staffPerStore+1, newAddress(brdoc.PhoneShapes(brdoc.PhoneFromSeed(uint64(9000+i), false))[3]), "2024-01-01 00:00:00")
	}
	staffCols := []string{"staff_id", "first_name", "last_name", "address_id", "email", "store_id", "active", "username", "last_update"}
	for i := 1; i <= stores*staffPerStore; i++ {
		first, last := s.name()
		phone := brdoc.PhoneFromSeed(uint64(8000+i), true)
		f.add("staff", staffCols, i, first, last, newAddress(phone),
			staffEmail(i), (i-1)/staffPerStore+1, 1, fmt.Sprintf("staff%02d", i), "2024-01-01 00:00:00")
		f.Others = append(f.Others, Person{Label: fmt.Sprintf("employee %d", i), IDs: crm.Identifiers{Email: staffEmail(i), Phone: phone},
			Ref: []any{"staff", i}})
	}

	filmCols := []string{"film_id", "title", "release_year", "rental_rate", "last_update"}
	adjectives := []string{"Noite", "Sombra", "Rio", "Sertão", "Cidade", "Vento", "Mar", "Estrela"}
	nouns := []string{"Perdida", "Eterna", "Vermelha", "do Norte", "Azul", "Secreta", "Final", "Distante"}
	const films = 40
	for i := 1; i <= films; i++ {
		f.add("film", filmCols, i, adjectives[i%len(adjectives)]+" "+nouns[(i/len(adjectives))%len(nouns)]+fmt.Sprintf(" %d", i),
			1990+s.n(35), []string{"0.99", "2.99", "4.99"}[s.n(3)], "2024-01-01 00:00:00")
	}
	invCols := []string{"inventory_id", "film_id", "store_id", "last_update"}
	inv := 0
	invStore := map[int]int{}
	for film := 1; film <= films; film++ {
		for st := 1; st <= stores; st++ {
			for range 1 + s.n(2) {
				inv++
				invStore[inv] = st
				f.add("inventory", invCols, inv, film, st, "2024-01-01 00:00:00")
			}
		}
	}

	custCols := []string{"customer_id", "store_id", "first_name", "last_name", "cpf", "email", "address_id", "active", "create_date", "last_update"}
	auditCols := []string{"audit_id", "customer_id", "changed_at", "action", "old_store_id", "new_store_id"}
	rentCols := []string{"rental_id", "rental_date", "inventory_id", "customer_id", "return_date", "staff_id", "last_update"}
	payCols := []string{"payment_id", "customer_id", "staff_id", "rental_id", "amount", "payment_date", "last_update"}
	rental, payment, audit := 0, 0, 0
	for c := 1; c <= ShopCustomers; c++ {
		first, last := s.name()
		store := 1 + s.n(stores)
		var ids crm.Identifiers
		var cpf, mail, phone any
		if d := brdoc.CPFFromSeed(uint64(100000 + c)); !s.chance(1, 12) {
			ids.CPF = d
			cpf = brdoc.CPFShapes(d)[s.n(3)%2] // digits or punctuated
		}
		if !s.chance(1, 10) {
			ids.Email = email(first, last, c)
			mail = ids.Email
		}
		phone = ""
		if e := brdoc.PhoneFromSeed(uint64(200000+c), true); !s.chance(1, 8) {
			ids.Phone = e
			phone = brdoc.PhoneShapes(e)[[]int{0, 3, 2}[s.n(3)]]
		}
		addr := newAddress(phone.(string))
		active := 1
		if s.chance(1, 15) {
			active = 0
		}
		f.add("customer", custCols, c, store, first, last, cpf, mail, addr, active, s.when(), "2024-01-01 00:00:00")
		if s.chance(1, 5) {
			audit++
			f.add("customer_audit", auditCols, audit, c, s.when(), "store", 1+s.n(stores), store)
		}
		for range s.n(7) {
			rental++
			// An item of the customer's store, taken by one of its employees.
			item := 1 + s.n(inv)
			for invStore[item] != store {
				item = 1 + s.n(inv)
			}
			staff := (store-1)*staffPerStore + 1 + s.n(staffPerStore)
			at := s.when()
			f.add("rental", rentCols, rental, at, item, c, s.orNull(at, 10), staff, "2024-01-01 00:00:00")
			payment++
			f.add("payment", payCols, payment, c, s.orNull(staff, 12), rental, fmt.Sprintf("%d.%02d", 1+s.n(9), s.n(100)), at, "2024-01-01 00:00:00")
		}
		if s.chance(1, 6) { // a late fee, no rental
			payment++
			f.add("payment", payCols, payment, c, 1+s.n(stores*staffPerStore), nil, "1.50", s.when(), "2024-01-01 00:00:00")
		}
		f.People = append(f.People, Person{Label: fmt.Sprintf("customer %d", c), IDs: ids, Ref: []any{c}})
	}
	f.Samples = samples(f.People)
	f.truth = func(p Person) []TruthQuery {
		if p.Ref[0] == "staff" {
			// An employee's own rows: their record and their address. The
			// rentals and payments they took are the customers'.
			return []TruthQuery{
				{"staff", "SELECT staff_id FROM staff WHERE staff_id = ?", []any{p.Ref[1]}},
				{"address", "SELECT address_id FROM address WHERE address_id = (SELECT address_id FROM staff WHERE staff_id = ?)", []any{p.Ref[1]}},
			}
		}
		id := p.Ref[0]
		return []TruthQuery{
			{"customer", "SELECT customer_id FROM customer WHERE customer_id = ?", []any{id}},
			{"address", "SELECT address_id FROM address WHERE address_id = (SELECT address_id FROM customer WHERE customer_id = ?)", []any{id}},
			{"customer_audit", "SELECT audit_id FROM customer_audit WHERE customer_id = ?", []any{id}},
			{"rental", "SELECT rental_id FROM rental WHERE customer_id = ?", []any{id}},
			{"payment", "SELECT payment_id FROM payment WHERE customer_id = ?", []any{id}},
		}
	}
	return f
}

// staffEmail is the work address of employee i of the shop.
func staffEmail(i int) string { return fmt.Sprintf("funcionario%02d@loja.example.org", i) }

// samples picks titulares of different shapes: every identifier, each one
// missing, and a spread of others.
func samples(people []Person) []Person {
	var out []Person
	seen := map[string]bool{}
	take := func(p Person, why string) {
		if seen[p.Label] {
			return
		}
		seen[p.Label] = true
		p.Label += why
		out = append(out, p)
	}
	for _, want := range []struct {
		ok  func(crm.Identifiers) bool
		why string
	}{
		{func(i crm.Identifiers) bool { return i.CPF != "" && i.Email != "" && i.Phone != "" }, ""},
		{func(i crm.Identifiers) bool { return i.CPF == "" && i.Email != "" }, " (no CPF)"},
		{func(i crm.Identifiers) bool { return i.Email == "" && i.CPF != "" }, " (no e-mail)"},
		{func(i crm.Identifiers) bool { return i.Phone == "" && i.CPF != "" }, " (no phone)"},
	} {
		for _, p := range people {
			if want.ok(p.IDs) {
				take(p, want.why)
				break
			}
		}
	}
	for i := len(people) / 3; i < len(people) && len(out) < 6; i += len(people) / 5 {
		if !people[i].IDs.Empty() {
			take(people[i], "")
		}
	}
	return out
}
