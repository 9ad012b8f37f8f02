package export

import (
	"errors"
	"fmt"
)

// multiWriter feeds one traversal to several writers, e.g. JSON and XLSX
// from a single read of the titular's rows.
type multiWriter struct {
	ws []Writer
}

// Multi returns a Writer that calls each of ws in order. A call stops at the
// first writer that fails and returns its error; Close closes every writer
// and joins their errors.
func Multi(ws ...Writer) Writer {
	return &multiWriter{ws: append([]Writer(nil), ws...)}
}

func (m *multiWriter) each(call func(Writer) error) error {
	for i, w := range m.ws {
		if err := call(w); err != nil {
			return fmt.Errorf("export: writer %d: %w", i, err)
		}
	}
	return nil
}

func (m *multiWriter) Begin(meta Meta) error {
	return m.each(func(w Writer) error { return w.Begin(meta) })
}

func (m *multiWriter) BeginEntity(e Entity) error {
	return m.each(func(w Writer) error { return w.BeginEntity(e) })
}

func (m *multiWriter) WriteRow(values []any) error {
	return m.each(func(w Writer) error { return w.WriteRow(values) })
}

func (m *multiWriter) EndEntity() error {
	return m.each(func(w Writer) error { return w.EndEntity() })
}

func (m *multiWriter) Close() error {
	var errs []error
	for i, w := range m.ws {
		if err := w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("export: writer %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
