package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// PurposeCatalog is a purposes file (`titular purposes load`): the tenant's
// purposes as code, each with the term that must be in force, e.g.
// examples/realestate/purposes.yaml.
type PurposeCatalog struct {
	Purposes []CatalogPurpose `yaml:"purposes"`
}

// CatalogPurpose is one purpose of a purposes file.
type CatalogPurpose struct {
	ID                  string      `yaml:"id"`
	Name                string      `yaml:"name"`
	Description         string      `yaml:"description"`
	LegalBasis          string      `yaml:"legal_basis"`
	ConsentRequired     bool        `yaml:"consent_required"`
	RefusalConsequences string      `yaml:"refusal_consequences"`
	SharedWith          []string    `yaml:"shared_with"`
	Term                CatalogTerm `yaml:"term"`

	// AutomatedDecisions marks a purpose whose decisions are taken solely
	// by automated processing (e.g. credit_analysis): a titular may ask for
	// their review (REVIEW, Art. 20). Unlike the rest of the purpose, the
	// file's value is applied on every load.
	AutomatedDecisions bool `yaml:"automated_decisions"`
}

// CatalogTerm is the version of a purpose's terms a purposes file wants in force.
type CatalogTerm struct {
	Version string `yaml:"version"`
	Text    string `yaml:"text"`
}

// LoadedPurpose says what LoadPurposes did with one purpose.
type LoadedPurpose struct {
	ID            string
	Created       bool   // the purpose was new
	PublishedTerm string // version published now; "" when it already was
}

// LoadPurposes makes the tenant's catalog hold every purpose of c with its
// term in force, validating them as CreatePurpose and PublishTerm do. It is
// idempotent: existing purposes are kept as they are (purposes are never
// replaced), and a term is published only when its version is new. A version
// already published with another text is an error: published terms never
// change.
func LoadPurposes(ctx context.Context, t *tenant.Tenant, c PurposeCatalog, by string) ([]LoadedPurpose, error) {
	var out []LoadedPurpose
	for i, cp := range c.Purposes {
		p, err := purposeFromProto(&lgpdv1.Purpose{Id: cp.ID, Name: cp.Name, Description: cp.Description,
			LegalBasis: cp.LegalBasis, ConsentRequired: cp.ConsentRequired,
			RefusalConsequences: cp.RefusalConsequences, SharedWith: cp.SharedWith})
		if err != nil {
			return out, fmt.Errorf("purposes[%d] (%s): %w", i, cp.ID, err)
		}
		text := strings.TrimSpace(cp.Term.Text) + "\n"
		if !termVersionPattern.MatchString(cp.Term.Version) || cp.Term.Version == currentAlias || strings.TrimSpace(cp.Term.Text) == "" {
			return out, fmt.Errorf("purposes[%d] (%s): term needs a version (e.g. \"1\") and its text", i, cp.ID)
		}
		p.CreatedBy = by
		res := LoadedPurpose{ID: p.ID}
		err = t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			res = LoadedPurpose{ID: p.ID}
			if _, err := tx.CreatePurpose(ctx, p); err == nil {
				res.Created = true
			} else if !errors.Is(err, store.ErrDuplicate) {
				return err
			}
			if err := tx.MarkAutomatedDecisions(ctx, p.ID, cp.AutomatedDecisions); err != nil {
				return err
			}
			existing, err := tx.Term(ctx, p.ID, cp.Term.Version)
			switch {
			case err == nil && existing.SHA256 != store.TextSHA256(text):
				return fmt.Errorf("term version %s is already published with another text; published terms never change, give the new text a new version", cp.Term.Version)
			case err == nil:
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			if _, err := tx.PublishTerm(ctx, p.ID, cp.Term.Version, text, by); err != nil {
				return err
			}
			res.PublishedTerm = cp.Term.Version
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("purposes[%d] (%s): %w", i, cp.ID, err)
		}
		out = append(out, res)
	}
	return out, nil
}
