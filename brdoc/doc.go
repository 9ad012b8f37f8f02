// Package brdoc normalizes, validates, formats and generates Brazilian
// identifiers: CPF, CNPJ (numeric and the alphanumeric form of IN RFB
// 2.229/2024), e-mail, phone, CEP, PIS/PASEP/NIS and CNH.
//
// Normalized forms are what titular stores and compares: CPF as 11 digits,
// CNPJ as 14 upper-case characters, phones in E.164 (+55…), e-mails trimmed and
// lower-cased, CEP as 8 digits. The Shapes functions list the spellings a CRM
// is likely to hold for one normalized value, so lookups can match all of them.
//
// Every parse error wraps ErrInvalid and carries a fixed message that says what
// is wrong and how to fix it. Messages never include the input: identifiers are
// personal data and errors end up in logs.
package brdoc

import "errors"

// ErrInvalid is wrapped by every error returned by the Normalize functions.
var ErrInvalid = errors.New("brdoc: invalid value")

// invalidError is a fixed, input-free message that unwraps to ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalid(msg string) error { return &invalidError{msg: msg} }
