package crm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a civil date (a DATE column), kept apart from datetimes so exports
// show it without a time or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String renders the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Decimal is a DECIMAL column's exact text; never passed through float64.
type Decimal string

// convertValue turns what the MySQL driver returns (text protocol bytes or
// binary protocol natives) into the Sink's value kinds, by column type.
func convertValue(v any, dbType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	t := strings.TrimPrefix(dbType, "UNSIGNED ")
	switch x := v.(type) {
	case []byte:
		s := string(x)
		switch t {
		case "DECIMAL":
			return Decimal(s), nil
		case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR":
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				// An UNSIGNED BIGINT above int64: keep it exact as text.
				return Decimal(s), nil //nolint:nilerr // exact text is the fallback
			}
			return n, nil
		case "FLOAT", "DOUBLE":
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", t, err)
			}
			return f, nil
		case "DATE":
			return parseDate(s)
		case "DATETIME", "TIMESTAMP":
			return parseDateTime(s)
		case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BIT", "GEOMETRY":
			return x, nil
		default:
			return s, nil
		}
	case int64:
		return x, nil
	case uint64:
		return Decimal(strconv.FormatUint(x, 10)), nil
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case time.Time:
		if x.IsZero() {
			return nil, nil // MySQL's zero date, parsed by the driver
		}
		if t == "DATE" {
			return Date{Year: x.Year(), Month: x.Month(), Day: x.Day()}, nil
		}
		return x.UTC(), nil
	case string:
		return x, nil
	case bool:
		return x, nil
	default:
		return fmt.Sprint(x), nil
	}
}

func parseDate(s string) (any, error) {
	if strings.HasPrefix(s, "0000-00-00") {
		return nil, nil // MySQL's zero date means "unknown"
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, fmt.Errorf("parse DATE: %w", err)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

func parseDateTime(s string) (any, error) {
	if strings.HasPrefix(s, "0000-00-00") {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		return nil, fmt.Errorf("parse DATETIME: %w", err)
	}
	return t.UTC(), nil
}
