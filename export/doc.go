// Package export writes a titular's data export (LGPD Art. 18 II and V,
// Art. 19 II) as JSON, the portable copy described by a published JSON
// Schema, as an XLSX workbook for people to read, and as a PDF to print
// (Art. 19 §2).
//
// Writers are fed one entity at a time, row by row, and stream to an
// io.Writer, so memory does not grow with the number of rows. The package
// runs no SQL and opens no connections.
package export

import "strings"

// Formats an export can be produced in.
const (
	FormatJSON = "json"
	FormatXLSX = "xlsx"
	FormatPDF  = "pdf"
)

// Formats lists every format, in the order a request's exports are made.
func Formats() []string { return []string{FormatJSON, FormatXLSX, FormatPDF} }

// ContentType returns the media type of format ("json", "xlsx" or "pdf"), or ""
// for a format this package does not write.
func ContentType(format string) string {
	switch strings.ToLower(format) {
	case FormatJSON:
		return "application/json"
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatPDF:
		return "application/pdf"
	}
	return ""
}

// Filename returns the download name of an export, "titular-<requestID>.<format>".
// Characters other than ASCII letters, digits, '-' and '_' become '_', so
// the name is safe in a Content-Disposition header and on any disk.
func Filename(requestID, format string) string {
	return "titular-" + safeName(requestID) + "." + safeName(strings.ToLower(format))
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
