package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/titular/titular/datamap"
)

// LoadSchema reads the current database's tables, columns and unique keys
// from INFORMATION_SCHEMA, for validating a data map against the live schema.
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

var _ Querier = (*sql.DB)(nil)
var _ Querier = (*sql.Tx)(nil)
