package export

import "fmt"

// phase is where a writer stands in the Begin/BeginEntity/WriteRow/EndEntity/Close sequence.
type phase int

const (
	phaseNew    phase = iota // nothing written yet
	phaseOpen                // Begin done, between entities
	phaseEntity              // inside an entity
	phaseClosed              // Close called
)

// sequence enforces the calling order shared by every writer, so each
// format only deals with well-formed traversals.
type sequence struct {
	phase  phase
	entity string // name of the open entity
	width  int    // number of fields of the open entity
}

func (s *sequence) begin() error {
	if s.phase != phaseNew {
		return fmt.Errorf("%w: Begin called twice or after Close", ErrCallOrder)
	}
	s.phase = phaseOpen
	return nil
}

func (s *sequence) beginEntity(e Entity) error {
	switch s.phase {
	case phaseNew:
		return fmt.Errorf("%w: BeginEntity before Begin", ErrCallOrder)
	case phaseEntity:
		return fmt.Errorf("%w: BeginEntity %q while entity %q is open", ErrCallOrder, e.Name, s.entity)
	case phaseClosed:
		return fmt.Errorf("%w: BeginEntity after Close", ErrCallOrder)
	}
	if err := checkEntity(e); err != nil {
		return err
	}
	s.phase, s.entity, s.width = phaseEntity, e.Name, len(e.Fields)
	return nil
}

func (s *sequence) row(n int) error {
	if s.phase != phaseEntity {
		return fmt.Errorf("%w: WriteRow outside an entity", ErrCallOrder)
	}
	if n != s.width {
		return fmt.Errorf("%w: entity %q has %d fields, row has %d values", ErrInvalidValue, s.entity, s.width, n)
	}
	return nil
}

func (s *sequence) endEntity() error {
	if s.phase != phaseEntity {
		return fmt.Errorf("%w: EndEntity without BeginEntity", ErrCallOrder)
	}
	s.phase, s.entity, s.width = phaseOpen, "", 0
	return nil
}

// close moves to phaseClosed whatever happens, so resources are released once.
func (s *sequence) close() error {
	prev, entity := s.phase, s.entity
	s.phase = phaseClosed
	switch prev {
	case phaseNew:
		return fmt.Errorf("%w: Close before Begin", ErrCallOrder)
	case phaseEntity:
		return fmt.Errorf("%w: Close while entity %q is open", ErrCallOrder, entity)
	case phaseClosed:
		return fmt.Errorf("%w: Close called twice", ErrCallOrder)
	}
	return nil
}

// checkEntity rejects entities whose rows could not be keyed by column name.
func checkEntity(e Entity) error {
	if e.Name == "" {
		return fmt.Errorf("%w: entity without a name", ErrInvalidEntity)
	}
	if len(e.Fields) == 0 {
		return fmt.Errorf("%w: entity %q has no fields", ErrInvalidEntity, e.Name)
	}
	seen := make(map[string]struct{}, len(e.Fields))
	for i, f := range e.Fields {
		if f.Name == "" {
			return fmt.Errorf("%w: entity %q field %d has no name", ErrInvalidEntity, e.Name, i)
		}
		if _, dup := seen[f.Name]; dup {
			return fmt.Errorf("%w: entity %q repeats field %q", ErrInvalidEntity, e.Name, f.Name)
		}
		seen[f.Name] = struct{}{}
	}
	return nil
}
