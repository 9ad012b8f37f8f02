package service

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// correctionValues checks a CORRECT's fields against the data map (logical
// names marked correctable) and validates and normalizes each new value by
// the field's `validate` rule. Messages name fields, never values.
func correctionValues(m *datamap.Map, c *lgpdv1.Correction) (map[string]string, error) {
	targets := crm.CorrectionTargets(m)
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(c.GetFields()) == 0 {
		return nil, invalid("CORRECTION_REQUIRED", "correction.fields needs at least one field; correctable fields: %s", strings.Join(names, ", "))
	}
	out := map[string]string{}
	for name, raw := range c.GetFields() {
		ts, ok := targets[name]
		if !ok {
			return nil, invalid("FIELD_NOT_CORRECTABLE", "correction.fields.%s is not a correctable field of this tenant; use one of: %s", safeName(name), strings.Join(names, ", "))
		}
		f, _ := ts[0].Entity.Field(ts[0].Column)
		v, err := normalizeValue(f.Validate, raw)
		if err != nil {
			return nil, invalid("INVALID_VALUE", "correction.fields.%s: %s", name, strings.TrimPrefix(err.Error(), "brdoc: "))
		}
		out[name] = v
	}
	return out, nil
}

// safeName keeps an unknown field name printable without echoing long input.
func safeName(s string) string {
	if len(s) > 64 || !utf8.ValidString(s) {
		return "(name too long)"
	}
	return s
}

var errBadDate = errors.New("not a date; use YYYY-MM-DD")

// normalizeValue validates a new value and returns the form titular stores.
func normalizeValue(rule, raw string) (string, error) {
	switch rule {
	case "cpf":
		return brdoc.NormalizeCPF(raw)
	case "cnpj":
		return brdoc.NormalizeCNPJ(raw)
	case "email":
		return brdoc.NormalizeEmail(raw)
	case "phone":
		return brdoc.NormalizePhone(raw)
	case "cep":
		return brdoc.NormalizeCEP(raw)
	case "date":
		d, err := time.Parse("2006-01-02", strings.TrimSpace(raw))
		if err != nil {
			return "", errBadDate
		}
		return d.Format("2006-01-02"), nil
	}
	v := strings.TrimSpace(raw)
	if v == "" || !utf8.ValidString(v) {
		return "", errors.New("must be non-empty UTF-8 text")
	}
	return v, nil
}

// correct applies a CORRECT within the transaction that recorded it, so a
// refusal (a value another person already holds) leaves nothing behind.
func correct(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request, actor string, values map[string]string) (*store.Request, error) {
	return runInline(ctx, tx, r, actor, func() (*store.Result, string, error) {
		counts, err := crm.Correct(ctx, tx.CRM(), t.Map, r.Subject, values)
		switch {
		case errors.Is(err, crm.ErrDuplicate):
			return nil, "", errorf(codes.FailedPrecondition, "UNIQUE_CONFLICT", "%s; nothing was changed", err.Error())
		case errors.Is(err, crm.ErrBadValue):
			return nil, "", invalid("INVALID_VALUE", "%s: a new value is not of the column's type (a number or a date where text was sent?); nothing was changed", err.Error())
		case errors.Is(err, crm.ErrTooLong):
			return nil, "", invalid("VALUE_TOO_LONG", "%s; nothing was changed", err.Error())
		case err != nil:
			return nil, "", err
		}
		res := &store.Result{Correct: &store.CorrectResult{Entities: counts}}
		for _, c := range counts {
			res.Correct.TotalRows += c.Rows
		}
		fields := slices.Sorted(maps.Keys(values))
		return res, "", propagateWith(ctx, t, tx, r, store.EventSubjectCorrected, map[string]any{"fields": fields, "entities": touched(counts)}, values)
	})
}
