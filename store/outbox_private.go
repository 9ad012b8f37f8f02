package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// EventRoutes tells the store where a request's events go: the tenant,
// which knows its webhooks and its data map, provides them (WithEvents).
type EventRoutes interface {
	// Subscribers names the endpoints that receive an event of type event
	// about entities (the data map's entities it concerns; none for an
	// event about no entity in particular).
	Subscribers(event string, entities []string) []string
	// Policy is what endpoint is told beyond the subject reference.
	Policy(endpoint string) EndpointPolicy
}

// EndpointPolicy is what an endpoint stands for and may receive (LGPD Art.
// 18 §6: a recipient that never saw the subject reference needs the
// identifiers it holds to repeat a correction or an erasure).
type EndpointPolicy struct {
	// Recipient is the data map's shared_with value the endpoint stands for.
	Recipient string
	// Identifiers are the identifier kinds (cpf, email, phone) it opted in to.
	Identifiers []string
}

// EventPrivate is the personal part of an event, for endpoints that opted
// in to it: never in data_json, and at rest only sealed (private_enc).
type EventPrivate struct {
	// Identifiers are those the request was made with.
	Identifiers Identifiers `json:"identifiers"`
	// NewValues are a correction's new values, by logical field name.
	NewValues map[string]string `json:"new_values,omitempty"`
}

// WithEvents routes the events the store emits itself (request.completed
// and the other completion events) and decides which deliveries carry the
// private part of an event; key (the tenant's export key, at least 32
// bytes) seals that part at rest. Without it, events are recorded with no
// delivery and never carry a private part.
func WithEvents(r EventRoutes, key []byte) Option {
	return func(s *Store) { s.routes, s.eventKey = r, key }
}

// subscribers is routes.Subscribers, or none without routes.
func (s *Store) subscribers(event string, entities []string) []string {
	if s.routes == nil {
		return nil
	}
	return s.routes.Subscribers(event, entities)
}

// privateKinds is what a delivery of p to endpoint carries, the identifier
// kinds it opted in to that p holds (none when nil), and the recipient the
// endpoint stands for.
func (s *Store) privateKinds(p *EventPrivate, endpoint string) (kinds []string, recipient string) {
	if s.routes == nil {
		return nil, ""
	}
	pol := s.routes.Policy(endpoint)
	if p == nil {
		return nil, pol.Recipient
	}
	for _, k := range pol.Identifiers {
		if p.Identifiers.Get(k) != "" {
			kinds = append(kinds, k)
		}
	}
	return kinds, pol.Recipient
}

// privateCipher derives the event's own AES-256-GCM key from the tenant's
// key, as exports do: one key per event, so nonces never repeat under a key.
func privateCipher(tenantKey []byte, eventID string) (cipher.AEAD, error) {
	if len(tenantKey) < 32 {
		return nil, errors.New("the tenant's export key must be at least 32 bytes to seal event identifiers")
	}
	key, err := hkdf.Key(sha256.New, tenantKey, []byte(eventID), "titular outbox private v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive event key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("event cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealPrivate encrypts p for event eventID: nonce || ciphertext, with the
// event id as associated data, so a sealed part moved to another event's
// row does not open.
func (s *Store) sealPrivate(eventID string, p *EventPrivate) ([]byte, error) {
	aead, err := privateCipher(s.eventKey, eventID)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode event identifiers: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	return aead.Seal(nonce, nonce, b, []byte(eventID)), nil
}

// OpenPrivate returns what delivery d may carry of its event's private
// part: only the identifier kinds recorded on the delivery
// (d.IdentifiersSent), and a correction's new values when it carries any
// identifier. nil when it carries nothing.
func (s *Store) OpenPrivate(d Delivery) (*EventPrivate, error) {
	if len(d.IdentifiersSent) == 0 {
		return nil, nil
	}
	if len(d.sealed) == 0 {
		return nil, fmt.Errorf("event %s: its identifiers are no longer kept (all its deliveries had ended)", d.Event.ID)
	}
	aead, err := privateCipher(s.eventKey, d.Event.ID)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(d.sealed) < n {
		return nil, fmt.Errorf("event %s: sealed identifiers are truncated", d.Event.ID)
	}
	b, err := aead.Open(nil, d.sealed[:n], d.sealed[n:], []byte(d.Event.ID))
	if err != nil {
		return nil, fmt.Errorf("event %s: sealed identifiers do not open with the tenant's export key (was it rotated?)", d.Event.ID)
	}
	var all EventPrivate
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("event %s: decode sealed identifiers: %w", d.Event.ID, err)
	}
	out := &EventPrivate{NewValues: all.NewValues}
	for _, k := range d.IdentifiersSent {
		v := all.Identifiers.Get(k)
		switch k {
		case "cpf":
			out.Identifiers.CPF = v
		case "email":
			out.Identifiers.Email = v
		case "phone":
			out.Identifiers.Phone = v
		}
	}
	return out, nil
}

// joinKinds and splitKinds store identifier kinds as one column.
func joinKinds(kinds []string) any {
	if len(kinds) == 0 {
		return nil
	}
	return strings.Join(kinds, ",")
}

func splitKinds(s string) []string {
	if s == "" {
		return nil
	}
	return slices.Collect(strings.SplitSeq(s, ","))
}
