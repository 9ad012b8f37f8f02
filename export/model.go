package export

import (
	"errors"
	"time"
)

// Errors returned by writers; match them with errors.Is.
var (
	// ErrCallOrder reports a Writer method called out of sequence (a row
	// outside an entity, a second Begin, a call after Close, ...).
	ErrCallOrder = errors.New("export: call out of order")
	// ErrInvalidEntity reports an Entity a writer cannot represent
	// (no name, no fields, duplicate or empty field names, too many columns).
	ErrInvalidEntity = errors.New("export: invalid entity")
	// ErrInvalidValue reports a row value of an unsupported kind or one
	// that has no faithful representation (NaN, an impossible Date). Error
	// texts name the column and the Go type, never the value itself.
	ErrInvalidValue = errors.New("export: invalid value")
)

// Meta describes the request the export answers.
type Meta struct {
	RequestID   string
	Tenant      string
	TenantName  string // the controller (controlador) as shown to the titular
	Kind        string // request kind, e.g. "EXTRACT"
	ReceivedAt  time.Time
	DueAt       time.Time // zero when the request has no deadline
	GeneratedAt time.Time
	SubjectRef  string // opaque reference to the titular, not personal data
}

// Entity describes one kind of record held about the titular, as the data
// map declares it, with the legal context Art. 19 II asks the answer to carry.
type Entity struct {
	Name              string // data-map entity name, e.g. "reserva"
	Label             string // pt-BR label, e.g. "Reservas e vendas"
	Table             string
	Purpose           string
	LegalBasis        string // code, e.g. "obrigacao_legal"
	LegalBasisLabel   string // pt-BR, e.g. "Cumprimento de obrigação legal"
	LegalBasisArticle string // e.g. "art. 7º, II"
	Origin            string
	SharedWith        []string
	// Holds are the legal holds that keep the entity's rows after a
	// deletion request, in data-map order; none when no hold applies. The
	// caller may fill in each hold's Until while it writes the entity's
	// rows (it depends on them): writers read Holds at EndEntity and Close.
	Holds  []*Retention
	Fields []Field
}

// Retention is a legal hold that keeps an entity's rows after a deletion request.
type Retention struct {
	Basis     string // code, e.g. "obrigacao_legal"
	Reference string // e.g. "Lei 9.613/1998 art. 10"
	KeepYears int
	// From says where the period counts from: a column (e.g. "data_venda"),
	// or the data map's rule over several ("when_set(data_distrato) else
	// data_venda", "data_venda next_year_start").
	From string
	// FromText says the same in pt-BR for the titular ("Data do distrato,
	// ou Data da venda quando não houver"); the XLSX shows it when set.
	FromText string
	// WhileReferenced: the hold has no period of its own; it lasts while
	// held records reference these (KeepYears and From are unset).
	WhileReferenced bool
	// Keep lists the fields the hold keeps; empty when it does not say.
	Keep []string
	// Until is when the hold releases the last of the titular's rows it
	// keeps; nil when it keeps none of them now.
	Until *time.Time
}

// Field is one column of an entity; rows carry values in Fields order.
type Field struct {
	Name          string // column name; the key of the value in JSON rows
	Label         string // pt-BR
	Category      string // data category code, e.g. "identificacao"
	CategoryLabel string // pt-BR
	Sensitive     bool   // LGPD Art. 5 II sensitive data
}

// Date is a civil date without time of day or zone (SQL DATE).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats d as "2006-01-02".
func (d Date) String() string {
	return string(appendDate(nil, d))
}

// valid reports whether d names a real day in years 1..9999, the range
// both ISO 8601 dates and Excel can hold.
func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	y, m, dd := t.Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// Decimal is an exact decimal number in its text form (SQL DECIMAL), so
// money keeps every digit instead of passing through float64.
type Decimal string

// Writer receives one traversal of a titular's data: Begin, then for each
// entity BeginEntity, WriteRow per record and EndEntity, then Close.
// Methods called out of that order return an error wrapping ErrCallOrder.
// A Writer is not safe for concurrent use.
type Writer interface {
	// Begin starts the document for the request m.
	Begin(m Meta) error
	// BeginEntity starts an entity; it appears in the output even with no rows.
	BeginEntity(e Entity) error
	// WriteRow writes one record: values align with the entity's Fields and
	// each is nil, string, int64, float64, bool, time.Time, Date, Decimal
	// or []byte. A rejected row writes nothing.
	WriteRow(values []any) error
	// EndEntity finishes the current entity.
	EndEntity() error
	// Close finishes the document and flushes it; it does not close the
	// underlying io.Writer. Close releases resources even when it returns
	// an error, and then the output is incomplete and must be discarded.
	Close() error
}
