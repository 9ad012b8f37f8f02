// Package webhook is the wire format of titular's propagation events (LGPD
// Art. 18 §6): the JSON body POSTed to a tenant's endpoints, the headers that
// come with it, and the HMAC-SHA256 signature a receiver checks. Receivers
// written in Go can import it to verify deliveries.
//
// A delivery is retried until the endpoint answers 2xx, so a receiver may see
// an event more than once: it must de-duplicate on the event id
// (HeaderEventID, also the body's "id").
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Headers sent with every delivery.
const (
	// HeaderSignature is "sha256=" followed by the hex HMAC-SHA256 of the
	// exact body bytes, keyed with the endpoint's secret.
	HeaderSignature = "Titular-Signature"
	// HeaderEventID is the event's id, stable across retries.
	HeaderEventID = "Titular-Event-Id"
	// HeaderEventType is the event's type, e.g. "consent.revoked".
	HeaderEventType = "Titular-Event-Type"
	// HeaderAttempt counts delivery attempts of this event to this endpoint, from 1.
	HeaderAttempt = "Titular-Delivery-Attempt"
)

const signaturePrefix = "sha256="

// Event is the JSON body of a delivery. The titular appears as SubjectRef,
// the reference the CRM received when it recorded the titular's request;
// only an endpoint that opted in to identifiers (a recipient that never saw
// that reference, LGPD Art. 18 §6) also gets Subject.
type Event struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	Type       string    `json:"type"`
	Tenant     string    `json:"tenant"`
	OccurredAt time.Time `json:"occurred_at"`
	SubjectRef string    `json:"subject_ref,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	// Recipient is the data map's shared_with recipient the endpoint stands
	// for, when it is tied to one.
	Recipient string          `json:"recipient,omitempty"`
	Data      json.RawMessage `json:"data"`
	// Subject is the titular as the request named them, for endpoints that
	// opted in (the kinds they chose); absent otherwise.
	Subject *Subject `json:"subject,omitempty"`
}

// Subject is what a recipient needs to find the titular in its own
// records and repeat a change: the identifiers the request was made with
// and, for subject.corrected, the corrected fields' new values (by the data
// map's field names).
type Subject struct {
	CPF       string            `json:"cpf,omitempty"`
	Email     string            `json:"email,omitempty"`
	Phone     string            `json:"phone,omitempty"`
	NewValues map[string]string `json:"new_values,omitempty"`
}

// Sign returns the HeaderSignature value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's signature under secret, in
// constant time.
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sum, m.Sum(nil))
}
