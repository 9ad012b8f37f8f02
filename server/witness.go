package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/config"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// witnessTimeout bounds one submission to a witness, so a witness that
// hangs does not hold the checkpoint job.
const witnessTimeout = 15 * time.Second

// witnessPusher submits each tenant's new checkpoints to the configured
// witnesses (C2SP tlog-witness) and stores their cosignatures, which
// `titular ledger verify` then holds the ledger to.
type witnessPusher struct {
	cfg       *config.Config
	witnesses []witness
	client    *http.Client
	log       *slog.Logger
}

type witness struct {
	name, url string
	key       note.Verifier
}

// parseWitnesses parses ledger.witnesses: each one's name, URL and cosignature
// verifier. config validation already checked the keys parse.
func parseWitnesses(cfg *config.Config) ([]witness, error) {
	var out []witness
	for i, w := range cfg.Ledger.Witnesses {
		v, err := ledger.NewCosignatureVerifier(w.Key)
		if err != nil {
			return nil, fmt.Errorf("ledger.witnesses[%d].key: %w", i, err)
		}
		out = append(out, witness{name: w.Name, url: w.URL, key: v})
	}
	return out, nil
}

func newWitnessPusher(cfg *config.Config, log *slog.Logger) *witnessPusher {
	ws, err := parseWitnesses(cfg)
	if err != nil {
		// Unreachable after config validation; kept loud rather than silent.
		log.Error("ledger witnesses disabled", "error", logsafe.Error(err))
	}
	return &witnessPusher{cfg: cfg, witnesses: ws, client: &http.Client{Timeout: witnessTimeout}, log: log}
}

// push submits cp to every witness that has not cosigned its size yet. A
// witness that fails does not stop the others; the job reports the errors
// and the next run tries again.
func (p *witnessPusher) push(ctx context.Context, t *tenant.Tenant, cp store.StoredCheckpoint) error {
	var errs []error
	for _, w := range p.witnesses {
		if err := p.pushOne(ctx, t, w, cp); err != nil {
			p.log.ErrorContext(ctx, "ledger: witness did not cosign", "tenant", t.Config.ID, "witness", w.name, "size", cp.Size, "error", logsafe.Error(err))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *witnessPusher) pushOne(ctx context.Context, t *tenant.Tenant, w witness, cp store.StoredCheckpoint) error {
	var old uint64
	last, err := t.Store.LatestCosigned(ctx, w.name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case last.Size == cp.Size && bytes.Equal(last.Root, cp.Root):
		// Cosigned already; the file may predate witnessed_dir or be lost.
		return p.keep(t, w, last.Size, []byte(last.Note))
	case last.Size >= cp.Size:
		return fmt.Errorf("witness %s cosigned the ledger at size %d and the tree now has %d entries, or another root: the ledger was rolled back or rewritten; run titular ledger verify",
			w.name, last.Size, cp.Size)
	default:
		old = last.Size
	}
	// A witness that saw another size than ours (our copy of its
	// cosignature lost, or another titular process ahead) says which, once.
	for attempt := 0; ; attempt++ {
		proof, err := t.Store.ConsistencyProof(ctx, old, cp.Size)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, witnessTimeout)
		cosigned, err := ledger.AddCheckpoint(sctx, p.client, w.url, w.key, old, proof, []byte(cp.Note))
		cancel()
		var conflict *ledger.ErrWitnessConflict
		switch {
		case errors.As(err, &conflict) && conflict.Size > cp.Size:
			return fmt.Errorf("witness %s has cosigned this ledger at size %d, beyond the tree's %d entries: the ledger was rolled back; run titular ledger verify",
				w.name, conflict.Size, cp.Size)
		case errors.As(err, &conflict) && attempt == 0:
			old = conflict.Size
			continue
		case err != nil:
			return err
		}
		if err := t.Store.SaveCosigned(ctx, store.Cosigned{Witness: w.name, Size: cp.Size, Root: cp.Root, Note: string(cosigned)}); err != nil {
			return err
		}
		// The copy outside the database, which a restore of the database
		// does not roll back.
		return p.keep(t, w, cp.Size, cosigned)
	}
}

// keep writes the cosigned checkpoint to its file in ledger.witnessed_dir.
func (p *witnessPusher) keep(t *tenant.Tenant, w witness, size uint64, cosigned []byte) error {
	if err := writeWitnessedFile(p.cfg.WitnessedFile(t.Config.ID, w.name), w.key,
		ledger.Origin(p.cfg.Ledger.Host, t.Config.ID), size, cosigned); err != nil {
		return fmt.Errorf("witness %s: keep the cosigned checkpoint in ledger.witnessed_dir: %w", w.name, err)
	}
	return nil
}
