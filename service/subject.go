package service

import (
	"errors"
	"slices"
	"strings"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/store"
)

// normalizeSubject validates and normalizes the identifiers a caller sent,
// against the identifiers the tenant's data map knows. Errors name the field
// and the fix, never the value.
func normalizeSubject(s *lgpdv1.Subject, accepted []string) (store.Identifiers, error) {
	var ids store.Identifiers
	if s == nil || (s.GetCpf() == "" && s.GetEmail() == "" && s.GetPhone() == "") {
		return ids, invalid("SUBJECT_REQUIRED", "subject needs at least one identifier: %s", strings.Join(accepted, ", "))
	}
	var errs []error
	check := func(kind, raw string, norm func(string) (string, error), dst *string) {
		if raw == "" {
			return
		}
		if !slices.Contains(accepted, kind) {
			errs = append(errs, invalid("IDENTIFIER_NOT_MAPPED", "subject.%s: this tenant identifies titulares by %s only", kind, strings.Join(accepted, ", ")))
			return
		}
		v, err := norm(raw)
		if err != nil {
			errs = append(errs, invalid("INVALID_IDENTIFIER", "subject.%s: %s", kind, strings.TrimPrefix(err.Error(), "brdoc: ")))
			return
		}
		*dst = v
	}
	check("cpf", s.GetCpf(), brdoc.NormalizeCPF, &ids.CPF)
	check("email", s.GetEmail(), brdoc.NormalizeEmail, &ids.Email)
	check("phone", s.GetPhone(), brdoc.NormalizePhone, &ids.Phone)
	if len(errs) > 0 {
		return ids, firstDomainError(errs)
	}
	return ids, nil
}

// firstDomainError joins several validation errors into one INVALID_ARGUMENT.
func firstDomainError(errs []error) error {
	msgs := make([]string, len(errs))
	reason := ""
	for i, e := range errs {
		var de *Error
		if errors.As(e, &de) && reason == "" {
			reason = de.Reason
		}
		msgs[i] = e.Error()
	}
	return invalid(reason, "%s", strings.Join(msgs, "; "))
}
