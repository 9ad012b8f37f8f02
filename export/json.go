package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
)

// SchemaID is the $id of the JSON Schema describing NewJSON's output
// (api/export/v1/extract.schema.json); documents carry it in "schema".
const SchemaID = "https://titular.dev/schemas/export/extract/v1.json"

// SchemaVersion is the document version written in "schema_version".
const SchemaVersion = "1"

// jsonWriter writes the document as it goes: structure by hand, each value
// through encoding/json, so memory does not depend on the number of rows.
type jsonWriter struct {
	seq     sequence
	out     *bufio.Writer
	scratch bytes.Buffer
	enc     *json.Encoder // encodes into scratch
	num     []byte        // scratch for numbers and times
	err     error         // first write error; every later call returns it

	fields   []Field
	holds    []*Retention // of the open entity, written at EndEntity
	keys     [][]byte     // `"column":` per field, encoded once per entity
	rows     int          // rows in the open entity
	entities int
	total    int64
	cats     map[string]struct{} // categories of entities that had rows
}

// NewJSON returns a Writer producing the JSON document described by the
// schema SchemaID: UTF-8, keys in a fixed order, written incrementally.
func NewJSON(w io.Writer) Writer {
	jw := &jsonWriter{out: bufio.NewWriterSize(w, 64<<10), cats: map[string]struct{}{}}
	jw.enc = json.NewEncoder(&jw.scratch)
	// Text a titular reads keeps "<", ">" and "&" as they are.
	jw.enc.SetEscapeHTML(false)
	return jw
}

// jsonRequest is the "request" object; field order is the document's key order.
type jsonRequest struct {
	ID          string  `json:"id"`
	Tenant      string  `json:"tenant"`
	Controller  string  `json:"controller"`
	Kind        string  `json:"kind"`
	ReceivedAt  string  `json:"received_at"`
	DueAt       *string `json:"due_at"`
	GeneratedAt string  `json:"generated_at"`
	SubjectRef  string  `json:"subject_ref"`
}

// jsonEntityHead is an entity object without its rows and row_count.
type jsonEntityHead struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Table   string `json:"table"`
	Purpose string `json:"purpose"`
	// PurposeLabel names the purpose code for the titular; omitted when
	// nothing names it.
	PurposeLabel string         `json:"purpose_label,omitempty"`
	LegalBasis   jsonLegalBasis `json:"legal_basis"`
	Origin       string         `json:"origin"`
	SharedWith   []string       `json:"shared_with"`
	Retention    *jsonRetention `json:"retention"`
	Fields       []jsonField    `json:"fields"`
}

type jsonLegalBasis struct {
	Code    string `json:"code"`
	Label   string `json:"label"`
	Article string `json:"article"`
}

type jsonRetention struct {
	Basis     string `json:"basis"`
	Reference string `json:"reference"`
	KeepYears int    `json:"keep_years"`
	From      string `json:"from"`
}

// jsonHold is one entry of an entity's holds, written after its rows: the
// release date depends on them.
type jsonHold struct {
	jsonRetention
	WhileReferenced bool     `json:"while_referenced"`
	Keep            []string `json:"keep"`
	Until           *string  `json:"until"`
}

type jsonField struct {
	Name          string `json:"name"`
	Label         string `json:"label"`
	Category      string `json:"category"`
	CategoryLabel string `json:"category_label"`
	Sensitive     bool   `json:"sensitive"`
}

func (jw *jsonWriter) Begin(m Meta) error {
	if jw.err != nil {
		return jw.err
	}
	if err := jw.seq.begin(); err != nil {
		return err
	}
	req := jsonRequest{
		ID: m.RequestID, Tenant: m.Tenant, Controller: m.TenantName, Kind: m.Kind,
		ReceivedAt: formatTime(m.ReceivedAt), GeneratedAt: formatTime(m.GeneratedAt),
		SubjectRef: m.SubjectRef,
	}
	if !m.DueAt.IsZero() {
		due := formatTime(m.DueAt)
		req.DueAt = &due
	}
	jw.writeString(`{"schema":`)
	jw.encode(SchemaID)
	jw.writeString(`,"schema_version":`)
	jw.encode(SchemaVersion)
	jw.writeString(`,"request":`)
	jw.encode(req)
	jw.writeHeaderSections(m)
	jw.writeString(`,"entities":[`)
	return jw.err
}

func (jw *jsonWriter) BeginEntity(e Entity) error {
	if jw.err != nil {
		return jw.err
	}
	if err := jw.seq.beginEntity(e); err != nil {
		return err
	}
	head := jsonEntityHead{
		Name: e.Name, Label: e.Label, Table: e.Table, Purpose: e.Purpose, PurposeLabel: e.PurposeLabel,
		LegalBasis: jsonLegalBasis{Code: e.LegalBasis, Label: e.LegalBasisLabel, Article: e.LegalBasisArticle},
		Origin:     e.Origin,
		SharedWith: e.SharedWith,
		Fields:     make([]jsonField, len(e.Fields)),
	}
	if head.SharedWith == nil {
		head.SharedWith = []string{}
	}
	if len(e.Holds) > 0 {
		// "retention" predates several holds per entity: it names the first.
		r := e.Holds[0]
		head.Retention = &jsonRetention{Basis: r.Basis, Reference: r.Reference, KeepYears: r.KeepYears, From: r.From}
	}
	jw.holds = e.Holds
	jw.fields = e.Fields
	jw.keys = jw.keys[:0]
	for i, f := range e.Fields {
		// Field by field, not jsonField(f): the published JSON stays as it is
		// when Field grows.
		head.Fields[i] = jsonField{Name: f.Name, Label: f.Label, Category: f.Category, CategoryLabel: f.CategoryLabel, Sensitive: f.Sensitive} //nolint:staticcheck // S1016: see above
		key, err := json.Marshal(f.Name)
		if err != nil {
			jw.err = fmt.Errorf("export: encoding field name: %w", err)
			return jw.err
		}
		jw.keys = append(jw.keys, append(key, ':'))
	}
	if jw.entities > 0 {
		jw.writeString(",")
	}
	jw.entities++
	jw.rows = 0
	// The head object is encoded whole and reopened: everything but its
	// closing brace is written, then the rows array follows inside it.
	jw.scratch.Reset()
	if err := jw.enc.Encode(head); err != nil {
		jw.err = fmt.Errorf("export: encoding entity %q: %w", e.Name, err)
		return jw.err
	}
	b := bytes.TrimRight(jw.scratch.Bytes(), "\n")
	jw.write([]byte("\n"))
	jw.write(b[:len(b)-1])
	jw.writeString(`,"rows":[`)
	return jw.err
}

func (jw *jsonWriter) WriteRow(values []any) error {
	if jw.err != nil {
		return jw.err
	}
	if err := jw.seq.row(len(values)); err != nil {
		return err
	}
	if err := checkRow(jw.fields, values); err != nil {
		return err
	}
	if jw.rows > 0 {
		jw.writeString(",")
	}
	jw.writeString("\n{")
	for i, v := range values {
		if i > 0 {
			jw.writeString(",")
		}
		jw.write(jw.keys[i])
		jw.value(v)
	}
	jw.writeString("}")
	jw.rows++
	return jw.err
}

// value writes one checked value.
func (jw *jsonWriter) value(v any) {
	switch v := v.(type) {
	case nil:
		jw.writeString("null")
	case bool:
		jw.writeString(strconv.FormatBool(v))
	case int64:
		jw.num = strconv.AppendInt(jw.num[:0], v, 10)
		jw.write(jw.num)
	case Decimal:
		if isDecimalLiteral(string(v)) {
			jw.writeString(string(v))
		} else {
			jw.encode(string(v))
		}
	case time.Time:
		jw.num = append(jw.num[:0], '"')
		jw.num = v.UTC().AppendFormat(jw.num, time.RFC3339Nano)
		jw.num = append(jw.num, '"')
		jw.write(jw.num)
	case Date:
		jw.num = append(jw.num[:0], '"')
		jw.num = appendDate(jw.num, v)
		jw.num = append(jw.num, '"')
		jw.write(jw.num)
	default: // string, float64 and []byte (base64) as encoding/json writes them
		jw.encode(v)
	}
}

func (jw *jsonWriter) EndEntity() error {
	if jw.err != nil {
		return jw.err
	}
	if err := jw.seq.endEntity(); err != nil {
		return err
	}
	if jw.rows > 0 {
		for _, f := range jw.fields {
			if f.Category != "" {
				jw.cats[f.Category] = struct{}{}
			}
		}
	}
	jw.total += int64(jw.rows)
	jw.writeString("\n],\"row_count\":")
	jw.num = strconv.AppendInt(jw.num[:0], int64(jw.rows), 10)
	jw.write(jw.num)
	holds := make([]jsonHold, len(jw.holds))
	for i, r := range jw.holds {
		holds[i] = jsonHold{jsonRetention: jsonRetention{Basis: r.Basis, Reference: r.Reference, KeepYears: r.KeepYears, From: r.From}, WhileReferenced: r.WhileReferenced, Keep: r.Keep}
		if holds[i].Keep == nil {
			holds[i].Keep = []string{}
		}
		if r.Until != nil {
			u := formatTime(*r.Until)
			holds[i].Until = &u
		}
	}
	jw.writeString(`,"holds":`)
	jw.encode(holds)
	jw.writeString("}")
	jw.fields, jw.holds, jw.rows = nil, nil, 0
	return jw.err
}

func (jw *jsonWriter) Close() error {
	if err := jw.seq.close(); err != nil {
		return err
	}
	if jw.err != nil {
		return jw.err
	}
	cats := make([]string, 0, len(jw.cats))
	for c := range jw.cats {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	jw.writeString("\n],\"summary\":{\"entity_count\":")
	jw.num = strconv.AppendInt(jw.num[:0], int64(jw.entities), 10)
	jw.write(jw.num)
	jw.writeString(`,"row_count":`)
	jw.num = strconv.AppendInt(jw.num[:0], jw.total, 10)
	jw.write(jw.num)
	jw.writeString(`,"categories":`)
	jw.encode(cats)
	jw.writeString("}}\n")
	if jw.err != nil {
		return jw.err
	}
	if err := jw.out.Flush(); err != nil {
		return fmt.Errorf("export: flushing json: %w", err)
	}
	return nil
}

// encode writes v as encoding/json does, without the Encoder's newline.
func (jw *jsonWriter) encode(v any) {
	if jw.err != nil {
		return
	}
	jw.scratch.Reset()
	if err := jw.enc.Encode(v); err != nil {
		jw.err = fmt.Errorf("export: encoding %T: %w", v, err)
		return
	}
	b := jw.scratch.Bytes()
	jw.write(b[:len(b)-1])
}

func (jw *jsonWriter) write(b []byte) {
	if jw.err != nil {
		return
	}
	if _, err := jw.out.Write(b); err != nil {
		jw.err = fmt.Errorf("export: writing json: %w", err)
	}
}

func (jw *jsonWriter) writeString(s string) {
	if jw.err != nil {
		return
	}
	if _, err := jw.out.WriteString(s); err != nil {
		jw.err = fmt.Errorf("export: writing json: %w", err)
	}
}

// formatTime renders metadata times like row datetimes: RFC 3339 in UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}
