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

	// Notice is what LGPD Art. 9 says the titular must be told with the
	// data: who the controller and the encarregado are, each purpose and
	// basis in words, retention, recipients and rights. Nil when unknown
	// (writers then omit the section).
	Notice *Notice
	// Minor is set when the titular is a child or adolescent (Art. 14):
	// the age band and the representative who acts for them.
	Minor *Minor
	// Reviews are the titular's requests for review of automated
	// decisions (Art. 20) with the DPO's answer, oldest first.
	Reviews []DecisionReview
}

// Party is a person or organisation named to the titular with a way to
// reach them.
type Party struct {
	Name    string
	Contact string // e-mail, address or page where the titular reaches them
}

// Notice is the Art. 9 information of the titular's copy, in pt-BR.
type Notice struct {
	Controller Party // the controlador
	DPO        Party // the encarregado (Art. 41)
	Purposes   []PurposeNotice
	Retention  []RetentionNotice
	Recipients []RecipientNotice
	Rights     []RightNotice
}

// PurposeNotice names one purpose as a person reads it.
type PurposeNotice struct {
	Code              string // data-map or consent purpose code
	Name              string // pt-BR, e.g. "Cadastro de clientes"
	Description       string
	LegalBasis        string // code
	LegalBasisLabel   string // in words
	LegalBasisArticle string // e.g. "art. 7º, V"
}

// RetentionNotice says how long one kind of data is kept, or the criterion.
type RetentionNotice struct {
	What string // entity label
	Rule string // pt-BR, e.g. "5 anos a partir da Data da venda"
}

// RecipientNotice is one recipient of a sharing (Art. 9 V).
type RecipientNotice struct {
	Name    string
	What    []string // entity labels shared
	Purpose string   // why, in words (e.g. a consent to share)
}

// RightNotice is one right of Art. 18 and how to exercise it.
type RightNotice struct {
	Right string // pt-BR, e.g. "Confirmação da existência de tratamento"
	How   string
}

// Minor describes a titular under 18 (Art. 14).
type Minor struct {
	// Band is "crianca" (under 12, ECA art. 2) or "adolescente" (12 to 17).
	Band string
	// Representative is who acts for the titular; nil when none was recorded.
	Representative *Representative
}

// Representative is a parent or legal guardian, or an attorney.
type Representative struct {
	Relation string // e.g. "mae", "pai", "tutor", "responsavel_legal", "procurador"
	Name     string
}

// DecisionReview is a request for review of a decision taken solely by
// automated processing (Art. 20) and its answer.
type DecisionReview struct {
	RequestID   string
	Purpose     string // purpose code, e.g. "credit_analysis"
	Reference   string // the decision's reference in the CRM
	DecidedAt   time.Time
	RequestedAt time.Time
	// Outcome is "" while pending, else "mantida" or "alterada".
	Outcome    string
	ReviewedBy string // the person who reviewed it
	ReviewedAt time.Time
	// Criteria: the criteria and procedures used (Art. 20 §1), or, when
	// withheld, TradeSecret says why.
	Criteria    string
	TradeSecret string
}

// Entity describes one kind of record held about the titular, as the data
// map declares it, with the legal context Art. 19 II asks the answer to carry.
type Entity struct {
	Name    string // data-map entity name, e.g. "reserva"
	Label   string // pt-BR label, e.g. "Reservas e vendas"
	Table   string
	Purpose string // code, e.g. "cadastro_cliente"
	// PurposeLabel is the purpose as the titular reads it (the data map's
	// purposes section names it, e.g. "Cadastro de clientes"); the copy
	// shows it instead of the code, and the code when it is empty.
	PurposeLabel      string
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
