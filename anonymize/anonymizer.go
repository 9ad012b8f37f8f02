package anonymize

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Anonymizer transforms one column's values.
type Anonymizer interface {
	// Name is the registry name, e.g. "fake.cpf".
	Name() string
	// Irreversible reports anonymization (Art. 12): true when the output
	// cannot be tied back to the input by reasonable means; false for keyed
	// or partial transforms (pseudonymization, Art. 13) and for keep.
	Irreversible() bool
	// Check reports why the anonymizer cannot write col (nil when it can).
	Check(col Column) error
	// Apply returns the anonymized form of v, fitting col. attempt is 0; the
	// caller raises it to draw another output when the first collides on a
	// UNIQUE column. Apply is safe for concurrent use.
	Apply(k *Key, col Column, v any, attempt int) (any, error)
}

// Canonicalizer is implemented by anonymizers whose output depends only on
// a normal form of the input: a CPF's digits, a lower-cased e-mail, a folded
// name. Canonical returns that form (the HMAC message). A caller that moves
// one value to another attempt after a UNIQUE collision uses it to move every
// spelling of the value, so copies in other tables keep matching.
type Canonicalizer interface {
	Canonical(v any) string
}

// Constructor builds an anonymizer from its data-map params, reporting
// unknown, missing or ill-typed params as an *Error.
type Constructor func(params map[string]any) (Anonymizer, error)

// Column describes the column an anonymizer writes. The zero Column is a
// text column of unknown length that accepts NULL.
type Column struct {
	// DataType is INFORMATION_SCHEMA.COLUMNS.DATA_TYPE, lower case
	// ("varchar", "int", "date"); "" when unknown (treated as text).
	DataType string
	// MaxLength is the column's length in characters; 0 when not text or
	// unbounded.
	MaxLength int64
	Nullable  bool
	// Unique is true when the column alone is a primary or unique key.
	Unique bool
}

// Error is a problem with an anonymizer's params or with the column it is
// mapped to. Messages name params and columns, never data values.
type Error struct {
	Msg string
	// FixText says how to correct the data map.
	FixText string
}

func (e *Error) Error() string { return e.Msg }

// Fix says how to correct the data map.
func (e *Error) Fix() string { return e.FixText }

func errorf(fix, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), FixText: fix}
}

// ErrUnknown is wrapped by Registry.New for a name with no constructor.
var ErrUnknown = errors.New("unknown anonymizer")

// Registry maps anonymizer names to constructors. NewRegistry fills it with
// the built-ins; a program embedding titular adds its own with Register. It
// is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	ctors map[string]Constructor
}

// NewRegistry returns a registry holding every built-in anonymizer.
func NewRegistry() *Registry {
	r := &Registry{ctors: make(map[string]Constructor, len(builtins))}
	for name, c := range builtins {
		r.ctors[name] = c
	}
	return r
}

// validName is what a registered name must look like: lower-case words
// joined by dots (fake.cpf, acme.contract_number).
var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Register adds a constructor. Names are lower-case words joined by dots; a
// name already registered (a built-in included) is refused, so a data map
// never silently changes meaning.
func (r *Registry) Register(name string, c Constructor) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("anonymize: register %q: use lower-case letters, digits and underscores, in words joined by dots", name)
	}
	if c == nil {
		return fmt.Errorf("anonymize: register %q: nil constructor", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.ctors[name]; dup {
		return fmt.Errorf("anonymize: register %q: the name is taken", name)
	}
	r.ctors[name] = c
	return nil
}

// Known reports whether name has a constructor.
func (r *Registry) Known(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.ctors[name]
	return ok
}

// Names lists the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.ctors))
	for n := range r.ctors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the anonymizer called name with params.
func (r *Registry) New(name string, params map[string]any) (Anonymizer, error) {
	r.mu.RLock()
	c, ok := r.ctors[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	a, err := c(params)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("anonymize: constructor of %q returned nothing", name)
	}
	return a, nil
}

// builtins are the constructors NewRegistry starts with. The map is never
// modified after package initialization.
var builtins = map[string]Constructor{
	"keep":                  newKeep,
	"nullify":               newNullify,
	"redact":                newRedact,
	"constant":              newConstant,
	"mask":                  newMask,
	"hmac":                  newHMAC,
	"random":                newRandom,
	"fake.name":             newFakeName,
	"fake.email":            newFakeEmail,
	"fake.phone":            newFakePhone,
	"fake.cpf":              newFakeCPF,
	"fake.cnpj":             newFakeCNPJ,
	"fake.cep":              newFakeCEP,
	"fake.address":          newFakeAddress,
	"generalize.year":       newGeneralizeYear,
	"generalize.month":      newGeneralizeMonth,
	"generalize.cep_prefix": newCEPPrefix,
	"generalize.bucket":     newBucket,
	"date_shift":            newDateShift,
	"ip_truncate":           newIPTruncate,
}

// params reads a data map's params, remembering which were used so unknown
// ones (usually typos) are reported instead of ignored.
type params struct {
	name string
	m    map[string]any
	used []string
	errs []string
}

func readParams(name string, m map[string]any) *params { return &params{name: name, m: m} }

func (p *params) get(key string) (any, bool) {
	p.used = append(p.used, key)
	v, ok := p.m[key]
	return v, ok && v != nil
}

func (p *params) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

// integer reads a whole number in [lo, hi], def when absent.
func (p *params) integer(key string, def, lo, hi int) int {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case int64:
		n = int(x)
	case float64:
		if x != float64(int(x)) {
			p.fail("%s must be a whole number", key)
			return def
		}
		n = int(x)
	default:
		p.fail("%s must be a whole number", key)
		return def
	}
	if n < lo || n > hi {
		p.fail("%s must be between %d and %d", key, lo, hi)
		return def
	}
	return n
}

// number reads a positive number, def when absent.
func (p *params) number(key string, def float64) float64 {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		p.fail("%s must be a number", key)
		return def
	}
	if !(f > 0) || f > 1e15 {
		p.fail("%s must be a positive number", key)
		return def
	}
	return f
}

// text reads a string, def when absent.
func (p *params) text(key, def string) string {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok {
		p.fail("%s must be text (quote it)", key)
		return def
	}
	return s
}

// flag reads a boolean, def when absent.
func (p *params) flag(key string, def bool) bool {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		p.fail("%s must be true or false", key)
		return def
	}
	return b
}

// done reports unknown and invalid params as one *Error.
func (p *params) done() error {
	var unknown []string
	for k := range p.m {
		if !slices.Contains(p.used, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		if len(p.used) == 0 {
			p.fail("unknown param %q: %s takes no params", k, p.name)
		} else {
			p.fail("unknown param %q", k)
		}
	}
	if len(p.errs) == 0 {
		return nil
	}
	fix := fmt.Sprintf("%s takes no params; remove them", p.name)
	if len(p.used) > 0 {
		fix = fmt.Sprintf("%s takes: %s", p.name, strings.Join(p.used, ", "))
	}
	return &Error{Msg: p.name + ": " + strings.Join(p.errs, "; "), FixText: fix}
}
