package crm

import (
	"slices"
	"strconv"
	"time"

	"github.com/titular/titular/datamap"
)

// runningHold is one of an entity's holds that keeps a row at now, with the
// row's release date under it.
type runningHold struct {
	index int // in Entity.Holds
	h     *datamap.Retention
	until time.Time
}

// runningHolds returns the holds of e that keep a row whose retention
// columns (e.RetentionColumns, in order) hold extra, at now. A hold whose
// `from` finds no date (a reservation never sold) does not apply.
func runningHolds(e *datamap.Entity, extra []any, now time.Time) []runningHold {
	if len(e.Holds) == 0 {
		return nil
	}
	cols := e.RetentionColumns()
	date := func(c string) (time.Time, bool) {
		i := slices.Index(cols, c)
		if i < 0 || i >= len(extra) {
			return time.Time{}, false
		}
		return dateOf(extra[i])
	}
	var out []runningHold
	for i, h := range e.Holds {
		if until, ok := h.ReleaseAt(date); ok && until.After(now) {
			out = append(out, runningHold{index: i, h: h, until: until})
		}
	}
	return out
}

// latest is the running hold that ends last: the row's release date is its
// (the latest release wins).
func latest(hs []runningHold) runningHold {
	var l runningHold
	for i, h := range hs {
		if i == 0 || h.until.After(l.until) {
			l = h
		}
	}
	return l
}

// dateOf reads a walked date value.
func dateOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case Date:
		return time.Date(x.Year, x.Month, x.Day, 0, 0, 0, 0, time.UTC), true
	case time.Time:
		return x.UTC(), true
	}
	return time.Time{}, false
}

// kept says what the running holds of a row need: whole when one of them
// needs the row as it is (on_delete: block without keep), else the fields
// they need, the union of their keep lists; a hold with on_delete:
// anonymize and no keep needs the fields that have no irreversible
// anonymizer (they are not in the plan, or only as minimizers). minimize is
// false when no running hold asks for anything to change.
func (ep *entityPlan) kept(hs []runningHold) (keep map[string]bool, whole, minimize bool) {
	keep = map[string]bool{}
	for _, r := range hs {
		switch {
		case r.h.Keep != nil:
			minimize = true
			for _, f := range r.h.Keep {
				keep[f] = true
			}
		case r.h.OnDelete == "anonymize":
			minimize = true
			for _, fp := range ep.fields {
				if fp.minimizeOnly {
					keep[fp.f.Column] = true
				}
			}
		default:
			whole = true
		}
	}
	return keep, whole, minimize && !whole
}

// retentionColumn asks the walk for an entity's retention date columns.
func retentionColumn(e *datamap.Entity) []string { return e.RetentionColumns() }

// holdTally adds up, per entity and hold, the rows a request kept and the
// latest release among them, for the result (Art. 18 §4 II: every hold
// named with its basis and release date).
type holdTally map[string]*Hold

func tallyKey(entity string, index int) string { return entity + "\x00" + strconv.Itoa(index) }

// add counts a row under each of its running holds.
func (t holdTally) add(e *datamap.Entity, hs []runningHold) {
	for _, r := range hs {
		k := tallyKey(e.Name, r.index)
		h := t[k]
		if h == nil {
			h = &Hold{Entity: e.Name, Basis: r.h.Basis, Reference: r.h.Reference, Keep: r.h.Keep}
			t[k] = h
		}
		h.Rows++
		if h.Until == nil || r.until.After(*h.Until) {
			u := r.until
			h.Until = &u
		}
	}
}

// dependant counts a row kept only because held rows reference it, under
// the entity's hold while referenced when the map states one, and returns
// the basis and reference it is kept under.
func (t holdTally) dependant(e *datamap.Entity) (basis, reference string) {
	i, w := whileHold(e)
	k := tallyKey(e.Name, i)
	h := t[k]
	if h == nil {
		h = &Hold{Entity: e.Name, Basis: HeldByDependants, Reference: dependantReference, dependant: true}
		if w != nil {
			h.Basis, h.Reference, h.Keep = w.Basis, w.Reference, w.Keep
		}
		t[k] = h
	}
	h.Rows++
	return h.Basis, h.Reference
}

// whileHold returns the entity's hold while referenced (and its index), or
// -1 and nil.
func whileHold(e *datamap.Entity) (int, *datamap.Retention) {
	for i, h := range e.Holds {
		if h.WhileReferenced {
			return i, h
		}
	}
	return -1, nil
}

// keepSet is the fields a hold keeps, as a set; nil when it does not say.
func keepSet(h *datamap.Retention) map[string]bool {
	if h == nil || h.Keep == nil {
		return nil
	}
	out := make(map[string]bool, len(h.Keep))
	for _, f := range h.Keep {
		out[f] = true
	}
	return out
}

// list returns the holds in map order, each entity's in document order
// and its dependant rows last.
func (t holdTally) list(m *datamap.Map) []Hold {
	var out []Hold
	for _, e := range m.Order() {
		for i := range e.Holds {
			if h := t[tallyKey(e.Name, i)]; h != nil {
				out = append(out, *h)
			}
		}
		if h := t[tallyKey(e.Name, -1)]; h != nil {
			out = append(out, *h)
		}
	}
	return out
}

// RetentionExtra is the WalkOptions.Extra that reads each entity's
// retention date columns, for Releases.
func RetentionExtra(e *datamap.Entity) []string { return e.RetentionColumns() }

// Releases returns, for each hold of e (Entity.Holds order), when it
// releases a row whose retention columns (RetentionExtra) hold extra; the
// zero time when the hold does not keep the row at now.
func Releases(e *datamap.Entity, extra []any, now time.Time) []time.Time {
	out := make([]time.Time, len(e.Holds))
	for _, r := range runningHolds(e, extra, now) {
		out[r.index] = r.until
	}
	return out
}
