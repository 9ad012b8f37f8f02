package anonymize

import "net/netip"

// dateShift moves a date by 1 to max_days days, forward or back, keyed by
// the date itself: never by zero, so the output is never the input, and
// always the same way for the same date in every table. The time of day is
// kept. Dates stay in MySQL's range (1000-01-01 to 9999-12-31).
type dateShift struct{ maxDays int }

func newDateShift(p map[string]any) (Anonymizer, error) {
	ps := readParams("date_shift", p)
	return dateShift{maxDays: ps.integer("max_days", 30, 1, 3650)}, ps.done()
}

func (dateShift) Name() string       { return "date_shift" }
func (dateShift) Irreversible() bool { return true }

func (dateShift) Check(col Column) error {
	switch col.class() {
	case classDate, classTime, classText:
		return nil
	}
	return errorf("map it to a DATE, DATETIME, TIMESTAMP or text column", "date_shift cannot read a %s column", col.typeName())
}

func (d dateShift) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	t, layout, ok := parseDate(v)
	if !ok {
		return unreadable(col), nil
	}
	s, err := k.stream("date_shift", attempt, []byte(t.Format("2006-01-02T15:04:05.999999999")))
	if err != nil {
		return nil, err
	}
	days := 1 + s.intn(d.maxDays)
	back := s.intn(2) == 0
	s.close()
	if (back && t.Year() > 1001) || t.Year() > 9998 {
		days = -days
	}
	out := formatDate(t.AddDate(0, 0, days), layout)
	if str, isText := out.(string); isText && !fits(str, col) {
		return unreadable(col), nil
	}
	return out, nil
}

// ipTruncate keeps the network of an IP address and zeroes the host part:
// a /24 for IPv4 and a /48 for IPv6 by default, the ranges a provider hands
// to many customers.
type ipTruncate struct{ v4, v6 int }

func newIPTruncate(p map[string]any) (Anonymizer, error) {
	ps := readParams("ip_truncate", p)
	return ipTruncate{v4: ps.integer("ipv4_prefix", 24, 8, 24), v6: ps.integer("ipv6_prefix", 48, 16, 64)}, ps.done()
}

func (ipTruncate) Name() string       { return "ip_truncate" }
func (ipTruncate) Irreversible() bool { return true }

func (ipTruncate) Check(col Column) error {
	if err := needText("ip_truncate", col, 7); err != nil {
		return err
	}
	return notUnique("ip_truncate", col)
}

func (t ipTruncate) Apply(_ *Key, col Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	addr, err := netip.ParseAddr(canonical(v))
	if err != nil {
		// Not an address: nothing of it may survive, and that is not a failure.
		return unreadable(col), nil //nolint:nilerr // an unparseable value becomes the unreadable marker
	}
	addr = addr.Unmap().WithZone("")
	bits := t.v6
	if addr.Is4() {
		bits = t.v4
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return unreadable(col), nil //nolint:nilerr // cannot happen (the parameters bound the prefix to 8–24 and 16–64 bits); fail closed all the same
	}
	out := p.Addr().String()
	if !fits(out, col) {
		return unreadable(col), nil
	}
	return out, nil
}
