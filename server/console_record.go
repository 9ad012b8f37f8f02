package server

import (
	"context"
	"slices"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/console"
	"github.com/titular/titular/inventory"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/tenant"
)

// consoleRecord draws up a tenant's record of processing for the console
// from the data map the tenant opened with, as titular datamap inventory
// does from the file.
func consoleRecord(tenants *tenant.Registry) console.RecordSource {
	return func(ctx context.Context, id string) (*inventory.Record, error) {
		t, err := tenants.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return inventory.Build(t.Map, t.Config, time.Now()), nil
	}
}

// consoleCosigned lists, per configured witness, the latest checkpoint it
// cosigned for the tenant's ledger, as stored (the verification checks
// the cosignatures).
func consoleCosigned(cfg *config.Config, tenants *tenant.Registry) func(context.Context, string) ([]console.Cosignature, error) {
	return func(ctx context.Context, id string) ([]console.Cosignature, error) {
		if len(cfg.Ledger.Witnesses) == 0 {
			return nil, nil
		}
		t, err := tenants.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		stored, err := latestCosigned(ctx, cfg, t.Store)
		out := make([]console.Cosignature, 0, len(stored))
		for _, wc := range stored {
			out = append(out, console.Cosignature{Witness: wc.witness.Name, Size: wc.cosigned.Size, At: wc.cosigned.CreatedAt})
		}
		return out, err
	}
}

// consoleVerifyLedger verifies a tenant's whole ledger for the console, the
// same check as titular ledger verify --offline: the tree recomputed from
// every leaf (hash and MAC), every stored node, the stored head, the latest
// stored checkpoint, and the checkpoints the witnesses cosigned, kept in the
// database and in ledger.witnessed_dir. It does not ask the witnesses over
// the network. The keys are the ones GetPublicKey publishes: the signing
// key is never read here.
func consoleVerifyLedger(cfg *config.Config, tenants *tenant.Registry, led lgpdv1.LedgerServiceServer) func(context.Context, string, func(done, total uint64)) (console.VerifyOutcome, error) {
	return func(ctx context.Context, id string, progress func(done, total uint64)) (console.VerifyOutcome, error) {
		var out console.VerifyOutcome
		pub, err := led.GetPublicKey(ctx, &lgpdv1.GetPublicKeyRequest{Tenant: id})
		if err != nil {
			return out, err
		}
		verifier, err := ledger.NewVerifier(pub.GetVerifierKey())
		if err != nil {
			return out, err
		}
		previous, err := PreviousLedgerVerifiers(cfg)
		if err != nil {
			return out, err
		}
		t, done, err := tenants.Use(ctx, id)
		if err != nil {
			return out, err
		}
		defer done()
		checks := ledger.Checks{Origin: pub.GetOrigin(), Verifier: verifier, Previous: previous, Progress: progress}
		stored, err := CosignedCheckpoints(ctx, cfg, t.Store, checks.Origin)
		if err != nil {
			return out, err
		}
		for _, c := range stored {
			checks.Checkpoints = append(checks.Checkpoints, []byte(c.Note))
			out.Witnesses = append(out.Witnesses, console.Cosignature{Witness: c.Witness, Size: c.Size, At: c.CreatedAt})
		}
		kept, err := KeptCheckpoints(cfg, id, checks.Origin)
		if err != nil {
			return out, err
		}
		for _, k := range kept {
			checks.Checkpoints = append(checks.Checkpoints, k.Note)
			if !slices.ContainsFunc(out.Witnesses, func(c console.Cosignature) bool { return c.Witness == k.Witness && c.Size == k.Size }) {
				out.Witnesses = append(out.Witnesses, console.Cosignature{Witness: k.Witness, Size: k.Size})
			}
		}
		rep, err := t.Store.VerifyLedger(ctx, checks)
		if err != nil {
			return out, err
		}
		out.Size, out.Nodes, out.Root, out.Checkpoints = rep.Size, rep.Nodes, rep.Root, len(rep.Checkpoints)
		if n := len(rep.Checkpoints); n > 0 {
			out.Largest = rep.Checkpoints[n-1].Size
		}
		if out.Pending, err = t.Store.PendingLeaves(ctx); err != nil {
			return out, err
		}
		return out, nil
	}
}
