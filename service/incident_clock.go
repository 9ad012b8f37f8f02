package service

import (
	"time"

	"github.com/titular/titular/internal/brtime"
)

// incidentBusinessDays is the time the controller has to notify the ANPD
// and the titulares of a security incident: 3 business days (dias úteis)
// from knowing of it (Res. CD/ANPD 15/2024 art. 6).
const incidentBusinessDays = 3

// brasilia is Brasília time, where the ANPD counts its days.
var brasilia = brtime.Location()

// IncidentDueAt is the deadline to notify an incident known at knownAt:
// the end (23:59:59.999999, Brasília time) of the 3rd business day after
// the day it became known, as the counting of deadlines goes (the first
// day is left out, the last included; Lei 9.784/1999 art. 66). Saturdays,
// Sundays and Brazil's national holidays are not business days; see
// NationalHoliday for which.
func IncidentDueAt(knownAt time.Time) time.Time {
	d := knownAt.In(brasilia)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, brasilia)
	for n := 0; n < incidentBusinessDays; {
		day = day.AddDate(0, 0, 1)
		if BusinessDay(day) {
			n++
		}
	}
	return day.AddDate(0, 0, 1).Add(-time.Microsecond).UTC()
}

// BusinessDay reports whether the calendar day of t (in t's location) is a
// business day: Monday to Friday and not a national holiday.
func BusinessDay(t time.Time) bool {
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := NationalHoliday(t)
	return !holiday
}

// NationalHoliday returns the name of the national holiday on t's calendar
// day, if any. Counted:
//   - the fixed national holidays (Lei 662/1949, Lei 6.802/1980, Lei
//     10.607/2002, Lei 14.759/2023): Confraternização Universal (1 Jan),
//     Tiradentes (21 Apr), Dia do Trabalho (1 May), Independência (7 Sep),
//     Nossa Senhora Aparecida (12 Oct), Finados (2 Nov), Proclamação da
//     República (15 Nov), Dia Nacional de Zumbi e da Consciência Negra
//     (20 Nov, from 2024) and Natal (25 Dec);
//   - the Easter-based days: Carnaval (Monday and Tuesday, 48 and 47 days
//     before Easter), Sexta-feira Santa (2 days before) and Corpus Christi
//     (60 days after). Carnaval and Corpus Christi are federal "pontos
//     facultativos" rather than holidays by law, but the federal
//     administration, the ANPD included, does not work on them, so they
//     are not business days for its deadlines.
//
// State and municipal holidays are not counted: the deadline is the
// ANPD's, a federal body.
func NationalHoliday(t time.Time) (string, bool) {
	y, m, d := t.Date()
	switch {
	case m == time.January && d == 1:
		return "Confraternização Universal", true
	case m == time.April && d == 21:
		return "Tiradentes", true
	case m == time.May && d == 1:
		return "Dia do Trabalho", true
	case m == time.September && d == 7:
		return "Independência do Brasil", true
	case m == time.October && d == 12:
		return "Nossa Senhora Aparecida", true
	case m == time.November && d == 2:
		return "Finados", true
	case m == time.November && d == 15:
		return "Proclamação da República", true
	case m == time.November && d == 20 && y >= 2024:
		return "Dia Nacional de Zumbi e da Consciência Negra", true
	case m == time.December && d == 25:
		return "Natal", true
	}
	easter := Easter(y)
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch int(day.Sub(easter).Hours() / 24) {
	case -48, -47:
		return "Carnaval", true
	case -2:
		return "Sexta-feira Santa", true
	case 60:
		return "Corpus Christi", true
	}
	return "", false
}

// Easter is Easter Sunday of year y (Gregorian calendar; the anonymous
// Gregorian algorithm of Meeus/Jones/Butcher), at 00:00 UTC.
func Easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}
