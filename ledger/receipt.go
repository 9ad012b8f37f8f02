package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Receipt is what GetReceipt returns: a request's leaf, a signed
// checkpoint and the inclusion proof between them. With the ledger's public
// key it lets a titular check, with no access to titular's database, that
// the request was recorded and which export files it vouches for.
type Receipt struct {
	RequestID      string
	LeafIndex      uint64
	Leaf           []byte
	Checkpoint     string
	InclusionProof [][]byte
}

// ParseReceipt reads a receipt as the REST API returns it (JSON; field names
// in snake_case or camelCase, the index as a string or a number, bytes in
// base64), so a titular can save the answer of
// GET /v1/tenants/{tenant}/requests/{id}/receipt as is.
func ParseReceipt(b []byte) (Receipt, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Receipt{}, fmt.Errorf("the receipt is not JSON (%v): save the answer of GET /v1/tenants/{tenant}/requests/{id}/receipt unchanged", err)
	}
	fields := map[string]json.RawMessage{}
	for k, v := range raw {
		fields[strings.ToLower(strings.ReplaceAll(k, "_", ""))] = v
	}
	var r Receipt
	for _, name := range []string{"requestid", "leafindex", "leaf", "checkpoint"} {
		if _, ok := fields[name]; !ok {
			return r, fmt.Errorf("the receipt has no %q field: is this the answer of GET …/requests/{id}/receipt?", name)
		}
	}
	var index json.Number
	var leaf, cp string
	var proof []string
	if err := errors.Join(
		json.Unmarshal(fields["requestid"], &r.RequestID),
		unmarshalNumber(fields["leafindex"], &index),
		json.Unmarshal(fields["leaf"], &leaf),
		json.Unmarshal(fields["checkpoint"], &cp),
	); err != nil {
		return r, fmt.Errorf("the receipt's fields have the wrong types: %w", err)
	}
	if p, ok := fields["inclusionproof"]; ok {
		if err := json.Unmarshal(p, &proof); err != nil {
			return r, fmt.Errorf("inclusion_proof must be a list of base64 hashes: %w", err)
		}
	}
	var err error
	if r.LeafIndex, err = strconv.ParseUint(index.String(), 10, 64); err != nil {
		return r, fmt.Errorf("leaf_index %q is not a whole number", index)
	}
	if r.Leaf, err = base64.StdEncoding.DecodeString(leaf); err != nil {
		return r, fmt.Errorf("leaf is not base64: %w", err)
	}
	r.Checkpoint = cp
	for i, h := range proof {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			return r, fmt.Errorf("inclusion_proof[%d] is not base64: %w", i, err)
		}
		r.InclusionProof = append(r.InclusionProof, b)
	}
	return r, nil
}

// unmarshalNumber accepts a JSON number or a string holding one (protojson
// writes 64-bit integers as strings).
func unmarshalNumber(b json.RawMessage, n *json.Number) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*n = json.Number(s)
		return nil
	}
	return json.Unmarshal(b, n)
}

// ExportFile is a file the titular downloaded, to match against the
// digests the receipt's leaf carries.
type ExportFile struct {
	Name string
	Data []byte
}

// ReceiptCheck is the outcome of one check, in words for the titular.
type ReceiptCheck struct {
	What   string
	OK     bool
	Detail string
}

// CheckReceipt runs every check of a receipt and returns each outcome, so
// the titular sees all that holds and all that does not, not only the first
// failure. keys are the ledger's verifier keys: the current one first, then
// those of keys rotated out; none means the signature cannot be checked,
// which fails. origin, when known (the public-key endpoint names it), is the
// ledger the checkpoint must be of: a key signs every tenant's checkpoints
// of a host. exports are files that must each match one of the leaf's
// digests.
func CheckReceipt(r Receipt, keys []note.Verifier, origin string, exports []ExportFile) []ReceiptCheck {
	var out []ReceiptCheck
	add := func(what string, err error, ok string) {
		if err != nil {
			out = append(out, ReceiptCheck{What: what, Detail: err.Error()})
			return
		}
		out = append(out, ReceiptCheck{What: what, OK: true, Detail: ok})
	}

	leaf, leafErr := Unmarshal(r.Leaf)
	switch {
	case leafErr != nil:
		add("registro do pedido", fmt.Errorf("o registro (leaf) não é um registro válido do ledger: %v", leafErr), "")
	case leaf.RequestID != r.RequestID:
		add("registro do pedido", fmt.Errorf("o registro é do pedido %s, não do pedido %s do recibo", leaf.RequestID, r.RequestID), "")
	default:
		add("registro do pedido", nil, fmt.Sprintf("pedido %s (%s), estado %s em %s UTC, posição %d no ledger",
			leaf.RequestID, leaf.Kind, leaf.To, leaf.At.UTC().Format("2006-01-02 15:04:05"), r.LeafIndex))
	}

	body, cpOrigin, bodyErr := checkpointBody(r.Checkpoint)
	var sigErr error
	switch {
	case bodyErr != nil:
		sigErr = bodyErr
	case origin != "" && cpOrigin != origin:
		sigErr = fmt.Errorf("o checkpoint é do ledger %s, não do ledger %s da chave informada: o recibo é de outro controlador ou cliente", cpOrigin, origin)
	case len(keys) == 0:
		sigErr = errors.New("nenhuma chave pública informada: obtenha-a em GET /v1/tenants/{tenant}/ledger/public-key (ou com o controlador) e passe --key")
	default:
		_, sigErr = OpenCheckpoint([]byte(r.Checkpoint), cpOrigin, keys[0], keys[1:]...)
		if sigErr != nil {
			sigErr = fmt.Errorf("a assinatura não confere com a chave pública informada: o checkpoint foi alterado ou a chave não é a deste ledger (%v)", sigErr)
		}
	}
	if sigErr != nil {
		add("assinatura do checkpoint", sigErr, "")
	} else {
		add("assinatura do checkpoint", nil, fmt.Sprintf("assinado pela chave %s para o ledger %s, com %d registros", keys[0].Name(), cpOrigin, body.Size))
	}

	switch {
	case bodyErr != nil:
		add("prova de inclusão", errors.New("sem um checkpoint legível não há raiz contra a qual provar"), "")
	case r.LeafIndex >= body.Size:
		add("prova de inclusão", fmt.Errorf("a posição %d está além dos %d registros do checkpoint", r.LeafIndex, body.Size), "")
	default:
		if err := VerifyInclusion(r.LeafIndex, body.Size, HashLeaf(r.Leaf), r.InclusionProof, body.Hash); err != nil {
			add("prova de inclusão", fmt.Errorf("o registro, sua posição ou a prova não levam à raiz assinada: algo foi alterado (%v)", err), "")
		} else {
			add("prova de inclusão", nil, fmt.Sprintf("o registro %d está na árvore de %d registros do checkpoint", r.LeafIndex, body.Size))
		}
	}

	for _, f := range exports {
		what := "arquivo " + f.Name
		sum := sha256.Sum256(f.Data)
		if leafErr != nil {
			add(what, errors.New("sem um registro válido não há resumos (SHA-256) com que comparar"), "")
			continue
		}
		var names []string
		match := ""
		for _, d := range leaf.Digests {
			names = append(names, d.Name)
			if bytes.Equal(d.SHA256[:], sum[:]) {
				match = d.Name
			}
		}
		switch {
		case match != "":
			add(what, nil, fmt.Sprintf("SHA-256 %s é o de %s no registro", hex.EncodeToString(sum[:]), match))
		case len(names) == 0:
			add(what, errors.New("o registro não traz resumo de nenhum arquivo: este recibo não é de uma cópia de dados (EXTRACT/PORTABILITY) concluída"), "")
		default:
			add(what, fmt.Errorf("SHA-256 %s não é o de nenhum arquivo do registro (%s): o arquivo não é o entregue ou foi alterado",
				hex.EncodeToString(sum[:]), strings.Join(names, ", ")), "")
		}
	}
	return out
}

// checkpointBody parses a signed checkpoint's text without checking its
// signature, so the inclusion proof is checked (and reported) on its own.
func checkpointBody(signed string) (*Checkpoint, string, error) {
	text, _, ok := strings.Cut(signed, "\n\n")
	if !ok {
		return nil, "", errors.New("o checkpoint não está no formato de nota assinada (texto, linha em branco, assinaturas)")
	}
	var cp Checkpoint
	if _, err := cp.Unmarshal([]byte(text + "\n")); err != nil {
		return nil, "", fmt.Errorf("o texto do checkpoint não é origem, tamanho e raiz: %v", err)
	}
	if len(cp.Hash) != HashSize {
		return nil, "", fmt.Errorf("a raiz do checkpoint tem %d bytes, não %d", len(cp.Hash), HashSize)
	}
	return &cp, cp.Origin, nil
}
