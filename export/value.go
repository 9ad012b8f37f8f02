package export

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// checkRow validates values before anything is written, so a rejected row
// never leaves half a record in the output. Errors name the column and the
// Go type only: the value may be personal data.
func checkRow(fields []Field, values []any) error {
	for i, v := range values {
		switch v := v.(type) {
		case nil, string, int64, bool, []byte, Decimal:
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: column %q: float64 is not finite", ErrInvalidValue, fields[i].Name)
			}
		case time.Time:
			if y := v.UTC().Year(); y < 0 || y > 9999 {
				return fmt.Errorf("%w: column %q: time.Time outside years 0..9999", ErrInvalidValue, fields[i].Name)
			}
		case Date:
			if !v.valid() {
				return fmt.Errorf("%w: column %q: export.Date is not a calendar day in years 1..9999", ErrInvalidValue, fields[i].Name)
			}
		default:
			return fmt.Errorf("%w: column %q: unsupported type %T", ErrInvalidValue, fields[i].Name, v)
		}
	}
	return nil
}

// appendDate appends d as "2006-01-02"; d must be valid.
func appendDate(b []byte, d Date) []byte {
	b = appendPadded(b, d.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(d.Month), 2)
	b = append(b, '-')
	return appendPadded(b, d.Day, 2)
}

func appendPadded(b []byte, n, width int) []byte {
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// isDecimalLiteral reports whether s is a number in JSON's grammar
// (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?), so it can be written verbatim.
func isDecimalLiteral(s string) bool {
	_, ok := scanDecimal(s)
	return ok
}

// scanDecimal checks s against JSON's number grammar and counts its
// significant digits (leading and trailing zeros of the mantissa excluded).
func scanDecimal(s string) (significant int, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digitsFrom := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return 0, false
	}
	intEnd := i
	fracFrom, fracEnd := i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracFrom = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fracFrom {
			return 0, false
		}
		fracEnd = i
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		expFrom := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == expFrom {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	mantissa := s[digitsFrom:intEnd] + s[fracFrom:fracEnd]
	first, last := -1, -1
	for j := 0; j < len(mantissa); j++ {
		if mantissa[j] != '0' {
			if first < 0 {
				first = j
			}
			last = j
		}
	}
	if first < 0 {
		return 0, true
	}
	return last - first + 1, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Excel stores IEEE doubles but shows and keeps 15 significant digits and
// magnitudes between about 1e-307 and 1e308.
const (
	excelDigits = 15
	excelMin    = 1e-307
	excelMax    = 9.99999999999999e307
	// excelMaxInt is the largest integer Excel holds without rounding a digit.
	excelMaxInt = 999_999_999_999_999
)

// decimalFloat returns d as a float64 when that number shows the exact same
// value in Excel; otherwise the caller keeps d as text.
func decimalFloat(d Decimal) (float64, bool) {
	sig, ok := scanDecimal(string(d))
	if !ok || sig > excelDigits {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(d), 64)
	if err != nil {
		return 0, false
	}
	if a := math.Abs(f); f != 0 && (a < excelMin || a > excelMax) {
		return 0, false
	}
	if f == 0 && sig != 0 {
		return 0, false
	}
	return f, true
}
