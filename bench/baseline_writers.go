package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/datamap"
)

// jsonBaseline writes {"entities":[{"name":…,"rows":[{"column":value,…}]}]}
// the way a developer would by hand: keys quoted once per entity, values
// appended without reflection.
type jsonBaseline struct {
	out      *bufio.Writer
	buf      []byte
	keys     [][]byte
	rows     int
	entities int
}

func newJSONBaseline(w io.Writer) *jsonBaseline {
	jb := &jsonBaseline{out: bufio.NewWriterSize(w, 64<<10)}
	jb.out.WriteString(`{"entities":[`)
	return jb
}

func (jb *jsonBaseline) BeginEntity(e *datamap.Entity) error {
	if jb.entities > 0 {
		jb.out.WriteByte(',')
	}
	jb.entities++
	jb.keys = jb.keys[:0]
	for _, f := range e.Fields {
		k := appendJSONString([]byte{','}, f.Column)
		jb.keys = append(jb.keys, append(k, ':'))
	}
	if len(jb.keys) > 0 {
		jb.keys[0] = jb.keys[0][1:] // no comma before the first key
	}
	jb.buf = appendJSONString(append(jb.buf[:0], `{"name":`...), e.Name)
	jb.buf = append(jb.buf, `,"rows":[`...)
	jb.rows = 0
	_, err := jb.out.Write(jb.buf)
	return err
}

func (jb *jsonBaseline) Row(values []any) error {
	b := jb.buf[:0]
	if jb.rows > 0 {
		b = append(b, ',')
	}
	jb.rows++
	b = append(b, '{')
	for i, v := range values {
		b = append(b, jb.keys[i]...)
		switch v := v.(type) {
		case nil:
			b = append(b, "null"...)
		case []byte:
			b = appendJSONString(b, v)
		case decimalText:
			b = append(b, v...)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case float64:
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		case time.Time:
			b = append(b, '"')
			b = v.UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		case civilDate:
			b = append(b, '"')
			b = time.Time(v).AppendFormat(b, time.DateOnly)
			b = append(b, '"')
		default:
			return fmt.Errorf("json baseline: unexpected %T", v)
		}
	}
	b = append(b, '}')
	jb.buf = b
	_, err := jb.out.Write(b)
	return err
}

func (jb *jsonBaseline) EndEntity(*datamap.Entity, int64) error {
	_, err := jb.out.WriteString("]}")
	return err
}

func (jb *jsonBaseline) finish() error {
	jb.out.WriteString("]}\n")
	return jb.out.Flush()
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, everything else as is (utf8mb4 columns hold
// valid UTF-8).
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := range len(s) {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// xlsxBaseline writes each entity to its own sheet with excelize's
// StreamWriter: a header row of labels, then the cells as the driver gave
// them (text as strings, numbers as numbers, dates with a date style).
type xlsxBaseline struct {
	out            io.Writer
	f              *excelize.File
	sw             *excelize.StreamWriter
	loc            *time.Location
	dateTime, date int
	row            []any
	rowNo          int
}

func newXLSXBaseline(w io.Writer) *xlsxBaseline {
	loc, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		loc = time.FixedZone("-03", -3*60*60)
	}
	f := excelize.NewFile()
	dt, _ := f.NewStyle(&excelize.Style{NumFmt: 22})
	d, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	return &xlsxBaseline{out: w, f: f, loc: loc, dateTime: dt, date: d}
}

func (xb *xlsxBaseline) BeginEntity(e *datamap.Entity) error {
	if _, err := xb.f.NewSheet(e.Name); err != nil {
		return err
	}
	sw, err := xb.f.NewStreamWriter(e.Name)
	if err != nil {
		return err
	}
	header := make([]any, len(e.Fields))
	for i, f := range e.Fields {
		header[i] = f.Label
	}
	xb.sw, xb.rowNo, xb.row = sw, 2, make([]any, len(e.Fields))
	return sw.SetRow("A1", header)
}

func (xb *xlsxBaseline) Row(values []any) error {
	for i, v := range values {
		switch v := v.(type) {
		case []byte:
			xb.row[i] = string(v)
		case decimalText:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return fmt.Errorf("xlsx baseline: decimal: %w", err)
			}
			xb.row[i] = f
		case time.Time:
			xb.row[i] = excelize.Cell{StyleID: xb.dateTime, Value: v.In(xb.loc)}
		case civilDate:
			xb.row[i] = excelize.Cell{StyleID: xb.date, Value: time.Time(v)}
		default:
			xb.row[i] = v
		}
	}
	err := xb.sw.SetRow("A"+strconv.Itoa(xb.rowNo), xb.row)
	xb.rowNo++
	return err
}

func (xb *xlsxBaseline) EndEntity(*datamap.Entity, int64) error { return xb.sw.Flush() }

func (xb *xlsxBaseline) finish() (err error) {
	// Close removes excelize's temporary files; its error is reported
	// unless the write already failed.
	defer func() { err = errors.Join(err, xb.f.Close()) }()
	_, err = xb.f.WriteTo(xb.out)
	return err
}
