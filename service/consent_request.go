package service

import (
	"net/netip"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
)

// consentChange is a validated CONSENT request.
type consentChange struct {
	purpose, action, version string
	channel                  string
	evidence                 store.ConsentEvidence
}

// payload is what a CONSENT asks beyond its titular: a request reusing its
// idempotency key must ask the same (store.NewRequest.Payload).
func (ch consentChange) payload() string {
	return "purpose=" + ch.purpose + "\x00action=" + ch.action + "\x00term=" + ch.version
}

// validateConsent checks a CONSENT request's shape; the catalog checks run
// in the transaction (consentWrite). Messages never echo the evidence.
func validateConsent(in *lgpdv1.ConsentChange) (consentChange, error) {
	var ch consentChange
	if in == nil {
		return ch, invalid("CONSENT_REQUIRED", "a CONSENT request needs consent: {purpose, action, term_version, evidence}")
	}
	if err := checkPurposeID(in.GetPurpose()); err != nil {
		return ch, err
	}
	switch in.GetAction() {
	case lgpdv1.ConsentAction_GRANT, lgpdv1.ConsentAction_REFUSE, lgpdv1.ConsentAction_REVOKE:
	default:
		return ch, invalid("CONSENT_ACTION_REQUIRED", "consent.action must be GRANT, REFUSE or REVOKE")
	}
	v := in.GetTermVersion()
	switch {
	case in.GetAction() == lgpdv1.ConsentAction_GRANT && v == "":
		return ch, invalid("TERM_VERSION_REQUIRED", "a GRANT must name the term_version the titular was shown (LGPD art. 8 §4: consent is for specific, informed purposes)")
	case v != "" && !termVersionPattern.MatchString(v):
		return ch, invalid("BAD_TERM_VERSION", "consent.term_version must be a published version, e.g. 3")
	}
	ev := in.GetEvidence()
	switch {
	case ev.GetChannel() == "" || len(ev.GetChannel()) > 40 || !utf8.ValidString(ev.GetChannel()):
		return ch, invalid("CHANNEL_REQUIRED", "consent.evidence.channel is required (at most 40 bytes), e.g. portal, crm, whatsapp: the controller must prove how consent was given (LGPD art. 8 §2)")
	case len(ev.GetUserAgent()) > 512 || !utf8.ValidString(ev.GetUserAgent()):
		return ch, invalid("BAD_EVIDENCE", "consent.evidence.user_agent holds at most 512 bytes of UTF-8")
	case len(ev.GetCapturedBy()) > 200 || !utf8.ValidString(ev.GetCapturedBy()):
		return ch, invalid("BAD_EVIDENCE", "consent.evidence.captured_by holds at most 200 bytes of UTF-8")
	case ev.GetRepresentative() != nil:
		// Output only: left unread here, a guardian would be silently lost.
		return ch, invalid("BAD_EVIDENCE", "consent.evidence.representative is filled by titular when it shows the evidence; name the parent or guardian who gave a child's consent in the request's representative field")
	}
	ip := ev.GetIp()
	if ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return ch, invalid("BAD_EVIDENCE", "consent.evidence.ip must be an IPv4 or IPv6 address")
		}
		ip = addr.Unmap().String()
	}
	return consentChange{
		purpose: in.GetPurpose(), action: in.GetAction().String(), version: v, channel: ev.GetChannel(),
		evidence: store.ConsentEvidence{IP: ip, UserAgent: ev.GetUserAgent(), CapturedBy: ev.GetCapturedBy()},
	}, nil
}

// consentEventData is the data of a consent.revoked event: which purpose,
// and the recipients that must stop processing for it (Art. 18 §6).
type consentEventData struct {
	Purpose     string   `json:"purpose"`
	TermVersion string   `json:"term_version,omitempty"`
	SharedWith  []string `json:"shared_with"`
}

// grantRule says whether a GRANT may be recorded for purpose p: the purpose
// must rest on consent (a grant for one that rests on another legal basis
// would mislead the titular, LGPD art. 7 and 8 §4) and name the term in
// force. Refusals and revocations are always accepted.
func grantRule(p *store.Purpose, ch consentChange) error {
	switch {
	case ch.action != store.ConsentGrant:
		return nil
	case !p.ConsentRequired:
		return errorf(codes.FailedPrecondition, "CONSENT_NOT_THE_BASIS", "purpose %s rests on %s, not on consent; a grant is not recorded for it (refusals and revocations are)", p.ID, p.LegalBasis)
	case p.CurrentVersion == "":
		return errorf(codes.FailedPrecondition, "NO_CURRENT_TERM", "purpose %s has no published term; the DPO publishes one before consent can be granted", p.ID)
	case ch.version != p.CurrentVersion:
		return errorf(codes.FailedPrecondition, "TERM_NOT_CURRENT", "term version %s of %s is not the one in force (%s); show the titular the current term and send its version", ch.version, p.ID, p.CurrentVersion)
	}
	return nil
}
