package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/internal/brtime"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

// incidentActor is what the register and the ledger record as the caller
// of `titular incident`: whoever can read the config acts as the DPO.
const incidentActor = "titular incident (CLI)"

const incidentUsage = `Usage:
  titular incident create --config FILE --tenant ID --title T --description D --notice N --known-at TIME
                          --categories c1,c2 --measures M --risk-assessment R [--dpo-contact C] [--relevant-risk]
                          [--occurred-at TIME] [--subjects-file FILE] [--entities e1,e2]
  titular incident list   --config FILE --tenant ID [--overdue]
  titular incident show   --config FILE --tenant ID --id ID
  titular incident notify --config FILE --tenant ID --id ID --target anpd|titulares [--protocol P] [--at TIME]

TIME is RFC 3339 (2026-03-09T14:30:00-03:00). --subjects-file holds one titular a line as
kind=value pairs separated by ';' or ',' (cpf=…; email=…; phone=…; '#' starts a comment): identifiers are never
taken on the command line, where shell history and ps would keep them.
`

// runIncident handles `titular incident`: the security incident register
// (LGPD art. 48) from the command line, on the tenant's database through
// the config, as `titular purposes load` does.
func runIncident(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, incidentUsage)
		return errors.New("incident: the subcommand is create, list, show or notify")
	}
	sub, rest := args[0], args[1:]
	cmd := newConfigCommand("incident " + sub)
	tenantID := cmd.fs.String("tenant", "", "tenant id (required)")
	var run func(context.Context, *tenant.Tenant) error
	switch sub {
	case "create":
		run = incidentCreate(cmd, stdout)
	case "list":
		overdue := cmd.fs.Bool("overdue", false, "only incidents with a notification missing after their deadline")
		run = func(ctx context.Context, t *tenant.Tenant) error {
			return incidentList(ctx, t, *overdue, stdout)
		}
	case "show":
		id := cmd.fs.String("id", "", "incident id (required)")
		run = func(ctx context.Context, t *tenant.Tenant) error {
			i, err := service.GetIncident(ctx, t, *id)
			if err != nil {
				return err
			}
			printIncident(stdout, i)
			return nil
		}
	case "notify":
		run = incidentNotify(cmd, stdout)
	default:
		fmt.Fprint(os.Stderr, incidentUsage)
		return fmt.Errorf("incident: unknown subcommand %q; use create, list, show or notify", sub)
	}
	cfg, log, err := cmd.load(rest)
	if err != nil {
		return err
	}
	if *tenantID == "" {
		return fmt.Errorf("incident %s: --tenant is required", sub)
	}
	tenants := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	defer func() { _ = tenants.Close() }()
	t, err := tenants.Get(ctx, *tenantID)
	if err != nil {
		return err
	}
	if err := run(ctx, t); err != nil {
		return fmt.Errorf("incident %s: %w", sub, err)
	}
	return nil
}

func incidentCreate(cmd *configCommand, stdout io.Writer) func(context.Context, *tenant.Tenant) error {
	fs := cmd.fs
	in := &lgpdv1.CreateIncidentRequest{}
	fs.StringVar(&in.Title, "title", "", "short title")
	fs.StringVar(&in.Description, "description", "", "what happened, for the register and the ANPD")
	fs.StringVar(&in.TitularNotice, "notice", "", "what happened, in Portuguese, for the titulares (the CRM e-mails it)")
	fs.StringVar(&in.Measures, "measures", "", "measures taken or planned")
	fs.StringVar(&in.RiskAssessment, "risk-assessment", "", "why the incident does or does not bring relevant risk")
	fs.BoolVar(&in.RelevantRisk, "relevant-risk", false, "the incident may bring relevant risk or damage to the titulares")
	fs.StringVar(&in.DpoContact, "dpo-contact", "", "how titulares reach the encarregado (default: the tenant config's dpo.contact)")
	known := fs.String("known-at", "", "when the controller learned of it, RFC 3339 (required)")
	occurred := fs.String("occurred-at", "", "when it happened, RFC 3339, if known")
	cats := fs.String("categories", "", "categories of personal data affected, comma-separated (data-map codes)")
	ents := fs.String("entities", "", "data-map entities whose every titular was affected, comma-separated")
	file := fs.String("subjects-file", "", "file of the titulares affected, one a line: cpf=… email=… phone=…")
	return func(ctx context.Context, t *tenant.Tenant) error {
		k, err := parseTime("--known-at", *known, true)
		if err != nil {
			return err
		}
		in.Tenant, in.KnownAt = t.Config.ID, k
		if in.OccurredAt, err = parseTime("--occurred-at", *occurred, false); err != nil {
			return err
		}
		in.Categories, in.Entities = splitList(*cats), splitList(*ents)
		if *file != "" {
			if in.Subjects, err = readSubjects(*file); err != nil {
				return err
			}
		}
		i, err := service.RegisterIncident(ctx, t, incidentActor, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "incident %s registered: %d titulares affected; notify the ANPD and the titulares by %s (Brasília time)\n",
			i.ID, i.SubjectsAffected, i.DueAt.In(brtime.Location()).Format("2006-01-02 15:04"))
		return nil
	}
}

func incidentNotify(cmd *configCommand, stdout io.Writer) func(context.Context, *tenant.Tenant) error {
	id := cmd.fs.String("id", "", "incident id (required)")
	target := cmd.fs.String("target", "", "anpd (record its communication) or titulares (notify them through the CRM's webhooks)")
	protocol := cmd.fs.String("protocol", "", "with --target anpd: the protocol number the ANPD gave")
	at := cmd.fs.String("at", "", "with --target anpd: when the communication was sent, RFC 3339 (default now)")
	return func(ctx context.Context, t *tenant.Tenant) error {
		in := &lgpdv1.NotifyIncidentRequest{Tenant: t.Config.ID, Id: *id, Protocol: *protocol}
		switch strings.ToLower(*target) {
		case "anpd":
			in.Target = lgpdv1.NotifyTarget_ANPD
		case "titulares":
			in.Target = lgpdv1.NotifyTarget_TITULARES
		default:
			return fmt.Errorf("--target %q: use anpd or titulares", *target)
		}
		var err error
		if in.NotifiedAt, err = parseTime("--at", *at, false); err != nil {
			return err
		}
		i, err := service.NotifyIncident(ctx, t, incidentActor, in)
		if err != nil {
			return err
		}
		printIncident(stdout, i)
		return nil
	}
}

func incidentList(ctx context.Context, t *tenant.Tenant, overdue bool, stdout io.Writer) error {
	token := ""
	for {
		page, err := service.ListIncidents(ctx, t, &lgpdv1.ListIncidentsRequest{Tenant: t.Config.ID, OverdueOnly: overdue, PageSize: 200, PageToken: token})
		if err != nil {
			return err
		}
		for _, i := range page.GetIncidents() {
			state := "on time"
			if i.GetOverdue() {
				state = "OVERDUE"
			}
			fmt.Fprintf(stdout, "%s  known %s  due %s  %-7s  anpd:%-3s titulares:%-3s  %5d titulares  %s\n", i.GetId(),
				i.GetKnownAt().AsTime().Format(time.DateOnly), i.GetDueAt().AsTime().Format(time.DateOnly), state,
				yesNo(i.GetAnpdNotification() != nil), yesNo(i.GetTitularesNotification() != nil), i.GetSubjectsAffected(), i.GetTitle())
		}
		if token = page.GetNextPageToken(); token == "" {
			return nil
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printIncident(w io.Writer, i *lgpdv1.Incident) {
	fmt.Fprintf(w, "incident %s\n  title: %s\n  known at: %s\n  due at: %s\n  overdue: %v\n  categories: %s\n  titulares affected: %d\n  measures: %s\n",
		i.GetId(), i.GetTitle(), i.GetKnownAt().AsTime().Format(time.RFC3339), i.GetDueAt().AsTime().Format(time.RFC3339),
		i.GetOverdue(), strings.Join(i.GetCategories(), ", "), i.GetSubjectsAffected(), i.GetMeasures())
	if n := i.GetAnpdNotification(); n != nil {
		fmt.Fprintf(w, "  ANPD notified: %s, protocol %s, on time: %v\n", n.GetAt().AsTime().Format(time.RFC3339), n.GetProtocol(), n.GetOnTime())
	}
	if n := i.GetTitularesNotification(); n != nil {
		fmt.Fprintf(w, "  titulares notified: %s, %d events, on time: %v\n", n.GetAt().AsTime().Format(time.RFC3339), n.GetEvents(), n.GetOnTime())
	}
}

// parseTime reads an RFC 3339 flag; empty is nil unless required.
func parseTime(flag, v string, required bool) (*timestamppb.Timestamp, error) {
	if v == "" {
		if required {
			return nil, fmt.Errorf("%s is required: RFC 3339, e.g. 2026-03-09T14:30:00-03:00", flag)
		}
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not an RFC 3339 time: write it as 2026-03-09T14:30:00-03:00", flag, v)
	}
	return timestamppb.New(t), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readSubjects reads a subjects file: one titular a line, as kind=value
// pairs separated by ';' or ',' (a phone may hold spaces). Errors name the line, never its
// contents.
func readSubjects(path string) ([]*lgpdv1.Subject, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the file
	if err != nil {
		return nil, fmt.Errorf("--subjects-file: %w", err)
	}
	defer f.Close() //nolint:errcheck // read only: closing cannot lose data
	var out []*lgpdv1.Subject
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' })
		s := &lgpdv1.Subject{}
		empty := true
		for _, fld := range fields {
			kind, value, ok := strings.Cut(strings.TrimSpace(fld), "=")
			kind, value = strings.TrimSpace(kind), strings.TrimSpace(value)
			if kind == "" && !ok {
				continue
			}
			empty = false
			switch {
			case !ok || value == "":
				return nil, fmt.Errorf("%s:%d: write each identifier as kind=value (cpf=…, email=…, phone=…)", path, n)
			case kind == "cpf":
				s.Cpf = value
			case kind == "email":
				s.Email = value
			case kind == "phone":
				s.Phone = value
			default:
				return nil, fmt.Errorf("%s:%d: unknown identifier kind; use cpf, email or phone", path, n)
			}
		}
		if !empty {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--subjects-file: %w", err)
	}
	return out, nil
}
