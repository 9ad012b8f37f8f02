package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/titular/titular/datamap"
)

// LoadSchema reads the current database's tables, columns, unique keys and
// foreign keys from INFORMATION_SCHEMA, for validating a data map against
// the live schema.
func LoadSchema(ctx context.Context, db Querier) (*datamap.Schema, error) {
	s := &datamap.Schema{Tables: map[string]*datamap.Table{}}
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
 COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), IS_NULLABLE
 FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read schema columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, nullable string
		var c datamap.Column
		if err := rows.Scan(&table, &c.Name, &c.DataType, &c.ColumnType, &c.MaxLength, &nullable); err != nil {
			return nil, fmt.Errorf("read schema columns: %w", err)
		}
		c.DataType, c.Nullable = strings.ToLower(c.DataType), nullable == "YES"
		t := s.Tables[table]
		if t == nil {
			t = &datamap.Table{Name: table, Columns: map[string]datamap.Column{}}
			s.Tables[table] = t
		}
		t.Columns[c.Name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema columns: %w", err)
	}
	if err := loadUniqueKeys(ctx, db, s); err != nil {
		return nil, err
	}
	// An anonymizer must not break them (CheckSchema).
	if s.ForeignKeys, err = foreignKeys(ctx, db); err != nil {
		return nil, err
	}
	return s, nil
}

func loadUniqueKeys(ctx context.Context, db Querier, s *datamap.Schema) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.STATISTICS
 WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return fmt.Errorf("read schema keys: %w", err)
	}
	defer rows.Close()
	type key struct{ table, index string }
	cols := map[key][]string{}
	var order []key
	for rows.Next() {
		var k key
		var col string
		if err := rows.Scan(&k.table, &k.index, &col); err != nil {
			return fmt.Errorf("read schema keys: %w", err)
		}
		if _, ok := cols[k]; !ok {
			order = append(order, k)
		}
		cols[k] = append(cols[k], col)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema keys: %w", err)
	}
	for _, k := range order {
		t := s.Tables[k.table]
		if t == nil {
			continue
		}
		if k.index == "PRIMARY" {
			t.PrimaryKey = cols[k]
		}
		t.Unique = append(t.Unique, cols[k])
	}
	return nil
}

// fkAction is a foreign key of the CRM whose ON DELETE rule changes the
// rows that reference a deleted row: SET NULL empties their reference,
// CASCADE deletes them. RESTRICT and NO ACTION keys are not among them: the
// database refuses those deletions itself (errRowReferenced).
type fkAction struct {
	Name       string
	Table      string // the referencing table
	Columns    []string
	RefTable   string
	RefColumns []string
	Rule       string // "SET NULL" or "CASCADE"
}

// loadFKActions reads the current database's SET NULL and CASCADE foreign
// keys, from any table (mapped or not) into one of tables, by referenced
// table. DELETE_RULE comes from REFERENTIAL_CONSTRAINTS, the columns from
// KEY_COLUMN_USAGE; SET DEFAULT (which InnoDB refuses to create) counts as
// a change too.
func loadFKActions(ctx context.Context, db Querier, tables map[string]bool) (map[string][]*fkAction, error) {
	rows, err := db.QueryContext(ctx, `SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
 k.REFERENCED_COLUMN_NAME, r.DELETE_RULE
 FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE k
 JOIN INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
  AND r.DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT')
 ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("read foreign key actions: %w", err)
	}
	defer rows.Close()
	out := map[string][]*fkAction{}
	var cur *fkAction
	for rows.Next() {
		var name, table, col, refTable, refCol, rule string
		if err := rows.Scan(&name, &table, &col, &refTable, &refCol, &rule); err != nil {
			return nil, fmt.Errorf("read foreign key actions: %w", err)
		}
		if !tables[refTable] {
			continue
		}
		if cur == nil || cur.Table != table || cur.Name != name {
			cur = &fkAction{Name: name, Table: table, RefTable: refTable, Rule: rule}
			out[refTable] = append(out[refTable], cur)
		}
		cur.Columns = append(cur.Columns, col)
		cur.RefColumns = append(cur.RefColumns, refCol)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read foreign key actions: %w", err)
	}
	return out, nil
}

var _ Querier = (*sql.DB)(nil)
var _ Querier = (*sql.Tx)(nil)
