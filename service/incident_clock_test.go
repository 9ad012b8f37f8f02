package service

import (
	"testing"
	"time"
)

// TestIncidentDueAt counts 3 business days (Res. CD/ANPD 15/2024 art. 6)
// across weekends and national holidays, in Brasília time.
func TestIncidentDueAt(t *testing.T) {
	t.Parallel()
	brt := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, brasilia) }
	endOf := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 23, 59, 59, 999999000, brasilia).UTC()
	}
	for _, c := range []struct {
		name  string
		known time.Time
		want  time.Time
	}{
		{"a plain Monday: Tue, Wed, Thu", brt(2026, time.March, 9, 10, 0), endOf(2026, time.March, 12)},
		{"Thursday before Sexta-feira Santa and a weekend: Mon, Tue, Wed", brt(2026, time.April, 2, 16, 0), endOf(2026, time.April, 8)},
		{"Friday before Carnaval: Wed, Thu, Fri", brt(2026, time.February, 13, 9, 0), endOf(2026, time.February, 20)},
		{"Wednesday before Consciência Negra (Fri) and a weekend: Thu, Mon, Tue", brt(2026, time.November, 18, 12, 0), endOf(2026, time.November, 24)},
		{"Corpus Christi on Thursday: known Wednesday, Fri, Mon, Tue", brt(2026, time.June, 3, 8, 0), endOf(2026, time.June, 9)},
		{"Saturday: Mon, Tue (Tiradentes the next week is later), Wed", brt(2026, time.April, 11, 11, 0), endOf(2026, time.April, 15)},
		{"Friday before Tiradentes (Tue 21): Mon, Wed, Thu", brt(2026, time.April, 17, 11, 0), endOf(2026, time.April, 23)},
		// 01:30 UTC on Tuesday is still Monday evening in Brasília.
		{"late Monday in Brasília, Tuesday in UTC", time.Date(2026, time.April, 7, 1, 30, 0, 0, time.UTC), endOf(2026, time.April, 9)},
		{"Christmas week: known Thu 24, then Mon 28, Tue 29, Wed 30", brt(2026, time.December, 24, 10, 0), endOf(2026, time.December, 30)},
	} {
		if got := IncidentDueAt(c.known); !got.Equal(c.want) {
			t.Errorf("%s: IncidentDueAt(%s) = %s, want %s", c.name, c.known.In(brasilia), got.In(brasilia), c.want.In(brasilia))
		}
	}
}

func TestEasterAndHolidays(t *testing.T) {
	t.Parallel()
	for y, want := range map[int]string{2019: "2019-04-21", 2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28", 2038: "2038-04-25"} {
		if got := Easter(y).Format(time.DateOnly); got != want {
			t.Errorf("Easter(%d) = %s, want %s", y, got, want)
		}
	}
	for day, want := range map[string]string{
		"2026-02-16": "Carnaval", "2026-02-17": "Carnaval", "2026-04-03": "Sexta-feira Santa", "2026-06-04": "Corpus Christi",
		"2026-04-21": "Tiradentes", "2025-11-20": "Dia Nacional de Zumbi e da Consciência Negra", "2026-01-01": "Confraternização Universal",
		"2026-02-18": "", "2023-11-20": "", "2026-06-05": "",
	} {
		d, _ := time.Parse(time.DateOnly, day)
		got, ok := NationalHoliday(d)
		if got != want || ok != (want != "") {
			t.Errorf("NationalHoliday(%s) = %q, %v; want %q", day, got, ok, want)
		}
	}
	if BusinessDay(time.Date(2026, time.March, 14, 12, 0, 0, 0, brasilia)) {
		t.Error("a Saturday counted as a business day")
	}
	if !BusinessDay(time.Date(2026, time.March, 13, 12, 0, 0, 0, brasilia)) {
		t.Error("an ordinary Friday did not count as a business day")
	}
}
