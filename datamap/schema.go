package datamap

import "strings"

// Schema describes a database's tables. The store fills it from
// INFORMATION_SCHEMA; CheckSchema compares a map against it.
type Schema struct {
	Tables map[string]*Table
	// ForeignKeys are the declared foreign keys between its tables; nil
	// when the store did not read them (CheckSchema then skips the
	// anonymizer-vs-foreign-key checks).
	ForeignKeys []ForeignKey
}

// Table is one table of a Schema.
type Table struct {
	Name       string
	Columns    map[string]Column
	PrimaryKey []string
	// Unique lists the columns of each unique index.
	Unique [][]string
}

// Column is one column of a Table.
type Column struct {
	Name string
	// DataType is INFORMATION_SCHEMA.COLUMNS.DATA_TYPE, lower case
	// ("varchar", "int", "datetime").
	DataType string
	// ColumnType is COLUMN_TYPE ("varchar(14)", "int(10) unsigned").
	ColumnType string
	// MaxLength is CHARACTER_MAXIMUM_LENGTH; 0 when not a text type or unknown.
	MaxLength int64
	Nullable  bool
}

// typeClass groups column types that compare with each other in a join.
type typeClass int

const (
	classOther typeClass = iota
	classText
	classNumber
	classDate // date, datetime, timestamp
	classTime
	classBinary
)

func (c typeClass) String() string {
	switch c {
	case classText:
		return "text"
	case classNumber:
		return "number"
	case classDate:
		return "date"
	case classTime:
		return "time"
	case classBinary:
		return "binary"
	}
	return "other"
}

// class classifies a column by DATA_TYPE, falling back to COLUMN_TYPE.
func (c Column) class() typeClass {
	t := strings.ToLower(c.DataType)
	if t == "" {
		t = strings.ToLower(c.ColumnType)
		if i := strings.IndexAny(t, "( "); i >= 0 {
			t = t[:i]
		}
	}
	switch t {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "uuid":
		return classText
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
		"float", "double", "real", "bit", "year":
		return classNumber
	case "date", "datetime", "timestamp":
		return classDate
	case "time":
		return classTime
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return classBinary
	}
	return classOther
}

// typeName is the column's type for messages.
func (c Column) typeName() string {
	if c.ColumnType != "" {
		return c.ColumnType
	}
	return c.DataType
}
