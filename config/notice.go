package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Contact is a person or organisation the titular's copy names with a way
// to reach them (LGPD Art. 9 III and Art. 41 §1): an e-mail, a postal
// address, a telephone or a page. Both values are shown to the titular as
// written, in pt-BR.
type Contact struct {
	Name    string `yaml:"name"`
	Contact string `yaml:"contact"`
}

// maxNoticeText bounds a notice value: one line the titular reads, not a
// document.
const maxNoticeText = 300

// NotInformed is what the titular's copy says where the tenant config
// leaves a value of the notice out.
const NotInformed = "não informado"

// validateNotice checks controller and dpo: each value, when set, is one
// line of readable text. Missing values are not errors (the copy says
// NotInformed); NoticeWarnings names them for `titular tenants check`.
func (t Tenant) validateNotice(at string) []error {
	var errs []error
	for _, p := range []struct {
		key string
		c   Contact
	}{{"controller", t.Controller}, {"dpo", t.DPO}} {
		for _, v := range []struct{ key, val string }{{"name", p.c.Name}, {"contact", p.c.Contact}} {
			if msg := noticeTextProblem(v.val); msg != "" {
				errs = append(errs, fmt.Errorf("%s.%s.%s: %s", at, p.key, v.key, msg))
			}
		}
	}
	return errs
}

// noticeTextProblem says what is wrong with a notice value, "" when
// nothing is. It never quotes the value: a DPO's name is personal data.
func noticeTextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8; save the file as UTF-8"
	case utf8.RuneCountInString(s) > maxNoticeText:
		return fmt.Sprintf("is %d characters long; keep it to one line of at most %d (link a page for more)", utf8.RuneCountInString(s), maxNoticeText)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "holds a line break or control character; write it on one line"
	case s != "" && strings.TrimSpace(s) == "":
		return "is blank; write the value or remove the key"
	}
	return ""
}

// NoticeWarnings names what the titular's copy will show as NotInformed:
// the controller's contact and the encarregado's name and contact (LGPD
// Art. 9 III, 41 §1). The controller's name falls back to the tenant's
// name, so it is missing only when both are.
func (t Tenant) NoticeWarnings() []string {
	var missing []string
	if strings.TrimSpace(t.Controller.Name) == "" && strings.TrimSpace(t.Name) == "" {
		missing = append(missing, "controller.name")
	}
	for _, v := range []struct{ key, val string }{
		{"controller.contact", t.Controller.Contact}, {"dpo.name", t.DPO.Name}, {"dpo.contact", t.DPO.Contact},
	} {
		if strings.TrimSpace(v.val) == "" {
			missing = append(missing, v.key)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the titular's copy will say %q for %s: set them in the tenant config "+
		"(LGPD Art. 9 III and 41 §1: the titular is told who the controller and the encarregado are and how to reach them)",
		NotInformed, strings.Join(missing, ", "))}
}

// Filled is c as the titular's copy and the record of processing show it:
// trimmed, fallback for a missing name, NotInformed for what is still
// missing.
func (c Contact) Filled(fallback string) Contact {
	out := Contact{Name: strings.TrimSpace(c.Name), Contact: strings.TrimSpace(c.Contact)}
	if out.Name == "" {
		out.Name = strings.TrimSpace(fallback)
	}
	if out.Name == "" {
		out.Name = NotInformed
	}
	if out.Contact == "" {
		out.Contact = NotInformed
	}
	return out
}
