// Package anonymize holds titular's anonymizers: the Anonymizer interface, a
// Registry of constructors by name, the built-ins and their pt-BR fakes. It is
// pure: no SQL, no network.
//
// # Irreversible or keyed
//
// Every anonymizer says whether it anonymizes (LGPD Art. 5 XI and 12: the
// output cannot be tied back to the titular by reasonable means) or only
// pseudonymizes (Art. 13 §4: a keyed hash or a mask keeps a link that whoever
// holds the key, or the rest of the value, can follow). An ANONYMIZE request
// refuses a data map that leaves the second kind on a personal field.
// Irreversible: nullify, redact, constant, random, fake.*, generalize.*,
// date_shift, ip_truncate. Not: keep (the value stays), mask (part of the
// value stays) and hmac (a stable keyed pseudonym, meant to be linkable).
//
// # Determinism
//
// Outputs are derived from HMAC-SHA256 under a per-tenant Key, with a subkey
// per domain (HKDF, RFC 5869): the same CPF becomes the same fake CPF in
// leads, pessoas and the reservas snapshot, so joins on it still hold. Fakes
// of identifiers are computed from the identifier's normalized form (a CPF's
// digits, a lower-cased e-mail, a phone in E.164) and written back in the
// input's own shape, so 123.456.789-09 and 12345678909 stay two spellings of
// one (fake) CPF. A fake never equals its input. The fakes are irreversible
// to anyone without the tenant's key; the key never leaves titular's keyring,
// and a controller that must also rule out the operator destroys it.
//
// # Values
//
// Apply receives what the store reads: nil, string, []byte, int64, float64 or
// time.Time (DATE and DATETIME columns; the column's DataType tells which).
// DECIMAL values arrive as their exact text.
//   - NULL is unknown, not data: every anonymizer but nullify returns it as is.
//   - Empty or blank text carries nothing personal and is returned as is
//     (nullify still nulls it), so NOT NULL columns holding "" stay valid.
//   - Numbers: only generalize.bucket, constant, nullify and keep accept
//     number columns; the column check refuses the others.
//   - Dates: generalize.year, generalize.month and date_shift accept DATE,
//     DATETIME and TIMESTAMP columns and text holding a date (2006-01-02,
//     02/01/2006, with or without a time), written back in the same layout.
//   - Values that do not parse: fakes draw a well-formed fake from the raw
//     text (a fake CPF for "não informado" too), so the column stays
//     uniform. Transforms that need the parsed value (generalize.*,
//     date_shift, ip_truncate) write NULL when the column allows it and ""
//     otherwise: they cannot keep any of a value they cannot read.
//
// Outputs fit the column: text is cut to its length in characters, shapes
// are chosen to fit, and Check refuses, before any data is touched, an
// anonymizer whose output cannot fit (nullify on NOT NULL, fake.email on
// VARCHAR(10), constant or redact on a UNIQUE column).
package anonymize
