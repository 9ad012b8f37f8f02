package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/titular/titular/config"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store"
)

// KeptCheckpoint is a cosigned checkpoint serve keeps in
// ledger.witnessed_dir, outside the database.
type KeptCheckpoint struct {
	Witness, Path string
	Size          uint64
	Note          []byte
}

// KeptCheckpoints reads the cosigned checkpoints kept outside the
// database, one per witness, each cosignature checked with its key; a
// copy that does not check is a *ledger.Problem, one that cannot be read
// an error of the host.
// titular ledger verify and the console's verify run both check them.
func KeptCheckpoints(cfg *config.Config, tenantID, origin string) ([]KeptCheckpoint, error) {
	var out []KeptCheckpoint
	for i, w := range cfg.Ledger.Witnesses {
		v, err := ledger.NewCosignatureVerifier(w.Key)
		if err != nil {
			return nil, fmt.Errorf("ledger.witnesses[%d].key: %w", i, err)
		}
		path := cfg.WitnessedFile(tenantID, w.Name)
		b, cp, err := ReadWitnessedFile(path, v, origin)
		var p *ledger.Problem
		switch {
		case errors.As(err, &p):
			return nil, &ledger.Problem{Entry: -1, Msg: fmt.Sprintf("the cosigned checkpoint of witness %s kept outside the database: %s", w.Name, p.Msg)}
		case err != nil:
			return nil, fmt.Errorf("the cosigned checkpoint of witness %s kept outside the database: %w", w.Name, err)
		}
		if b != nil {
			out = append(out, KeptCheckpoint{Witness: w.Name, Path: path, Size: cp.Size, Note: b})
		}
	}
	return out, nil
}

// CosignedCheckpoints returns, for each configured witness, the latest
// checkpoint it cosigned as stored in the database, its cosignature
// checked with the witness's key. The ledger must not be shorter than
// any, nor hold another root at its size: a witness cosigns only
// checkpoints that extend what it saw before. A cosignature that does not
// check is a *ledger.Problem; other errors are the database's or the
// config's.
func CosignedCheckpoints(ctx context.Context, cfg *config.Config, st *store.Store, origin string) ([]store.Cosigned, error) {
	stored, err := latestCosigned(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	out := make([]store.Cosigned, 0, len(stored))
	for _, wc := range stored {
		w, c := wc.witness, wc.cosigned
		v, err := ledger.NewCosignatureVerifier(w.Key)
		if err != nil {
			return nil, fmt.Errorf("ledger.witnesses %s key: %w", w.Name, err)
		}
		cp, err := ledger.OpenCosigned([]byte(c.Note), v)
		if err != nil {
			return nil, &ledger.Problem{Entry: -1, Msg: fmt.Sprintf("the stored cosignature of witness %s at size %d: %v", w.Name, c.Size, err)}
		}
		if cp.Origin != origin || cp.Size != c.Size {
			return nil, &ledger.Problem{Entry: -1, Msg: fmt.Sprintf("the stored cosignature of witness %s is of %s at size %d, not of this ledger at size %d", w.Name, cp.Origin, cp.Size, c.Size)}
		}
		out = append(out, c)
	}
	return out, nil
}

// witnessCosigned is a configured witness's latest stored cosignature.
type witnessCosigned struct {
	witness  config.Witness
	cosigned store.Cosigned
}

// latestCosigned reads, per configured witness, the latest checkpoint it
// cosigned as stored, unchecked; witnesses that cosigned nothing yet are
// left out.
func latestCosigned(ctx context.Context, cfg *config.Config, st *store.Store) ([]witnessCosigned, error) {
	var out []witnessCosigned
	for _, w := range cfg.Ledger.Witnesses {
		c, err := st.LatestCosigned(ctx, w.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, witnessCosigned{w, c})
	}
	return out, nil
}
