package export

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

var errDisk = errors.New("disk full")

// failingWriter fails every write, like a full disk or a dropped stream.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

// writers lists each format under test, with a fresh writer per call.
func writers() map[string]func() Writer {
	return map[string]func() Writer{
		"json":  func() Writer { return NewJSON(io.Discard) },
		"xlsx":  func() Writer { return NewXLSX(io.Discard) },
		"pdf":   func() Writer { return NewPDF(io.Discard) },
		"multi": func() Writer { return Multi(NewJSON(io.Discard), NewXLSX(io.Discard), NewPDF(io.Discard)) },
	}
}

func TestCallOrder(t *testing.T) {
	fx := newFixture()
	meta, ent := fx.meta, fx.entities[1] // two fields
	row := []any{"whatsapp", "texto"}
	steps := map[string]func(w Writer) error{
		"entity before begin": func(w Writer) error { return w.BeginEntity(ent) },
		"row before begin":    func(w Writer) error { return w.WriteRow(row) },
		"end before begin":    func(w Writer) error { return w.EndEntity() },
		"close before begin":  func(w Writer) error { return w.Close() },
		"begin twice": func(w Writer) error {
			_ = w.Begin(meta)
			return w.Begin(meta)
		},
		"row outside entity": func(w Writer) error {
			_ = w.Begin(meta)
			return w.WriteRow(row)
		},
		"end without entity": func(w Writer) error {
			_ = w.Begin(meta)
			return w.EndEntity()
		},
		"nested entity": func(w Writer) error {
			_ = w.Begin(meta)
			_ = w.BeginEntity(ent)
			return w.BeginEntity(ent)
		},
		"close inside entity": func(w Writer) error {
			_ = w.Begin(meta)
			_ = w.BeginEntity(ent)
			return w.Close()
		},
		"close twice": func(w Writer) error {
			_ = w.Begin(meta)
			_ = w.Close()
			return w.Close()
		},
		"row after close": func(w Writer) error {
			_ = w.Begin(meta)
			_ = w.Close()
			return w.WriteRow(row)
		},
	}
	for format, newWriter := range writers() {
		for name, step := range steps {
			err := step(newWriter())
			if !errors.Is(err, ErrCallOrder) {
				t.Errorf("%s: %s: err = %v, want ErrCallOrder", format, name, err)
			}
		}
	}
}

func TestInvalidInput(t *testing.T) {
	fx := newFixture()
	ent := fx.entities[1]
	entities := map[string]Entity{
		"no name":        {Fields: ent.Fields},
		"no fields":      {Name: "x"},
		"empty field":    {Name: "x", Fields: []Field{{Name: ""}}},
		"repeated field": {Name: "x", Fields: []Field{{Name: "a"}, {Name: "a"}}},
	}
	rows := map[string][]any{
		"too few values":  {"a"},
		"too many values": {"a", "b", "c"},
		"int":             {"a", 1},
		"NaN":             {"a", math.NaN()},
		"infinity":        {"a", math.Inf(-1)},
		"30 February":     {"a", Date{Year: 2024, Month: time.February, Day: 30}},
		"zero date":       {"a", Date{}},
		"year 10000":      {"a", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"map":             {"a", map[string]any{}},
	}
	for format, newWriter := range writers() {
		for name, e := range entities {
			w := newWriter()
			if err := w.Begin(fx.meta); err != nil {
				t.Fatal(err)
			}
			if err := w.BeginEntity(e); !errors.Is(err, ErrInvalidEntity) {
				t.Errorf("%s: entity %s: err = %v, want ErrInvalidEntity", format, name, err)
			}
		}
		for name, r := range rows {
			w := newWriter()
			if err := w.Begin(fx.meta); err != nil {
				t.Fatal(err)
			}
			if err := w.BeginEntity(ent); err != nil {
				t.Fatal(err)
			}
			err := w.WriteRow(r)
			if !errors.Is(err, ErrInvalidValue) {
				t.Errorf("%s: row %s: err = %v, want ErrInvalidValue", format, name, err)
			}
			// A rejected row leaves the writer usable.
			if err := w.WriteRow([]any{"ok", nil}); err != nil {
				t.Errorf("%s: row after rejected %s: %v", format, name, err)
			}
		}
	}
}

// Errors must not echo values: they may be a CPF or an e-mail.
func TestErrorsHideValues(t *testing.T) {
	fx := newFixture()
	w := NewJSON(io.Discard)
	_ = w.Begin(fx.meta)
	_ = w.BeginEntity(fx.entities[1])
	err := w.WriteRow([]any{"123.456.789-09", int32(12345678)})
	if err == nil || strings.Contains(err.Error(), "123.456.789-09") || strings.Contains(err.Error(), "12345678") {
		t.Errorf("err = %v", err)
	}
}

func TestContentTypeAndFilename(t *testing.T) {
	cases := []struct{ format, ctype, file string }{
		{"json", "application/json", "titular-01JQ7Z3K9V.json"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "titular-01JQ7Z3K9V.xlsx"},
		{"XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "titular-01JQ7Z3K9V.xlsx"},
		{"pdf", "application/pdf", "titular-01JQ7Z3K9V.pdf"},
		{"csv", "", "titular-01JQ7Z3K9V.csv"},
	}
	for _, c := range cases {
		if got := ContentType(c.format); got != c.ctype {
			t.Errorf("ContentType(%q) = %q, want %q", c.format, got, c.ctype)
		}
		if got := Filename("01JQ7Z3K9V", c.format); got != c.file {
			t.Errorf("Filename(%q) = %q, want %q", c.format, got, c.file)
		}
	}
	if got := Filename(`a/b"c d`, "json"); got != "titular-a_b_c_d.json" {
		t.Errorf("Filename sanitizing = %q", got)
	}
}
