package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// SurveyOptions bounds what Survey reads.
type SurveyOptions struct {
	// Rows is how many rows are sampled per table (default 200, at most
	// 1000).
	Rows int
}

// maxSampleChars bounds each sampled text value: enough to see an
// identifier inside free text, never a whole document.
const maxSampleChars = 500

// Survey reads what data-map discovery needs from the current database:
// tables, columns and keys (INFORMATION_SCHEMA.COLUMNS and STATISTICS),
// foreign keys (KEY_COLUMN_USAGE), up to opts.Rows rows per table and the
// figures of each candidate relation (datamap.Relations: overlap and fan-in
// on a bounded sample of referencing rows), all inside one read-only
// transaction. titular's own lgpd_ tables are left out.
// The sampled values stay in memory and must never be printed or logged.
func Survey(ctx context.Context, db *sql.DB, opts SurveyOptions) (*datamap.Survey, error) {
	rows := opts.Rows
	if rows <= 0 {
		rows = 200
	}
	rows = min(rows, 1000)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("survey: begin read-only transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	schema, err := LoadSchema(ctx, tx)
	if err != nil {
		return nil, err
	}
	s := &datamap.Survey{Schema: schema, Columns: map[string][]string{}, Samples: map[string]map[string][]string{}}
	for name := range schema.Tables {
		if strings.HasPrefix(name, "lgpd_") {
			delete(schema.Tables, name)
		}
	}
	if err := surveyColumns(ctx, tx, s); err != nil {
		return nil, err
	}
	if s.ForeignKeys, err = foreignKeys(ctx, tx); err != nil {
		return nil, err
	}
	for name, t := range schema.Tables {
		if s.Samples[name], err = sample(ctx, tx, t, s.Columns[name], rows); err != nil {
			return nil, err
		}
	}
	s.Relations = datamap.Relations(s)
	if err := measureRelations(ctx, tx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// surveyColumns records each table's columns in table order.
func surveyColumns(ctx context.Context, q Querier, s *datamap.Survey) error {
	rows, err := q.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS
 WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return fmt.Errorf("survey: read column order: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return fmt.Errorf("survey: read column order: %w", err)
		}
		if s.Schema.Tables[table] != nil {
			s.Columns[table] = append(s.Columns[table], col)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("survey: read column order: %w", err)
	}
	return nil
}

// foreignKeys reads the foreign keys declared inside the current database.
func foreignKeys(ctx context.Context, q Querier) ([]datamap.ForeignKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
 FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE
 WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
 ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("survey: read foreign keys: %w", err)
	}
	defer rows.Close()
	var out []datamap.ForeignKey
	last := ""
	for rows.Next() {
		var name, table, col, refTable, refCol string
		if err := rows.Scan(&name, &table, &col, &refTable, &refCol); err != nil {
			return nil, fmt.Errorf("survey: read foreign keys: %w", err)
		}
		if strings.HasPrefix(table, "lgpd_") {
			continue
		}
		if id := table + "\x00" + name; id != last || len(out) == 0 {
			out = append(out, datamap.ForeignKey{Table: table, RefTable: refTable})
			last = id
		}
		fk := &out[len(out)-1]
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("survey: read foreign keys: %w", err)
	}
	return out, nil
}

// sample reads up to limit rows of the table's text, date and integer
// columns (the kinds that can hold identifiers and dates of birth), each
// text value cut to maxSampleChars, and keeps the non-empty values.
func sample(ctx context.Context, q Querier, t *datamap.Table, order []string, limit int) (map[string][]string, error) {
	var cols, exprs []string
	for _, c := range order {
		switch t.Columns[c].DataType {
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
			exprs = append(exprs, "LEFT("+sqlq.QuoteIdent(c)+", "+fmt.Sprint(maxSampleChars)+")")
		case "date", "datetime", "timestamp", "bigint", "int", "enum":
			exprs = append(exprs, sqlq.QuoteIdent(c))
		default:
			continue
		}
		cols = append(cols, c)
	}
	out := map[string][]string{}
	if len(cols) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+sqlq.QuoteIdent(t.Name)+" LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("survey: sample table %s: %w", t.Name, err)
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("survey: sample table %s: %w", t.Name, err)
		}
		for i, v := range vals {
			if s := strings.TrimSpace(v.String); v.Valid && s != "" {
				out[cols[i]] = append(out[cols[i]], s)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("survey: sample table %s: %w", t.Name, err)
	}
	return out, nil
}
