package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/titular/titular/config"
	"github.com/titular/titular/tenant"
)

// runTenants is `titular tenants list|check`: what an operator of a fleet
// asks of every tenant at once.
func runTenants(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return runTenantsList(ctx, args[1:], stdout, stderr)
		case "check":
			return runTenantsCheck(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, usage)
	return errors.New("tenants: the subcommand is 'list' or 'check'")
}

// fleetCommand is a command over every tenant: --config, the log flags,
// --concurrency and, when asked, --tenant.
type fleetCommand struct {
	*configCommand
	concurrency int
	only        string
}

func newFleetCommand(name string, concurrency int, withTenant bool) *fleetCommand {
	c := &fleetCommand{configCommand: newConfigCommand(name)}
	c.fs.IntVar(&c.concurrency, "concurrency", concurrency, "tenants handled at once")
	if withTenant {
		c.fs.StringVar(&c.only, "tenant", "", "only this tenant (default: every tenant)")
	}
	return c
}

// entries parses args and returns the tenants to work on, sorted by id,
// the config and the logger.
func (c *fleetCommand) entries(args []string) ([]fleetEntry, *config.Config, *slog.Logger, error) {
	cfg, log, err := c.load(args)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.concurrency < 1 {
		return nil, nil, nil, fmt.Errorf("%s: --concurrency %d: use 1 or more", c.fs.Name(), c.concurrency)
	}
	all := fleetOf(cfg)
	if c.only == "" {
		return all, cfg, log, nil
	}
	for _, e := range all {
		if e.ID == c.only {
			return []fleetEntry{e}, cfg, log, nil
		}
	}
	return nil, nil, nil, fmt.Errorf("%s: tenant %q is neither in the config file nor in its tenants_dir", c.fs.Name(), c.only)
}

// fleetEntry is one tenant as the fleet commands see it: a usable tenant,
// or a tenant file that could not be used (Problem set), which they report
// as that tenant's failure instead of dropping it silently.
type fleetEntry struct {
	ID string
	// Source is "config" for a tenant of the config file, else the name of
	// its file in the tenants_dir.
	Source  string
	Tenant  config.Tenant
	Problem string
}

// fileFailure is the failure of a tenant file that could not be used.
func (e fleetEntry) fileFailure() *failure {
	return &failure{where: "invalid tenant file", what: e.Problem, fix: "fix or remove the file"}
}

// fleetOf lists the config's tenants and its unusable tenant files, sorted
// by id, so output is stable across runs and easy to compare.
func fleetOf(cfg *config.Config) []fleetEntry {
	var out []fleetEntry
	for _, t := range cfg.Tenants {
		src := "config"
		if t.Source != "" {
			src = filepath.Base(t.Source)
		}
		out = append(out, fleetEntry{ID: t.ID, Source: src, Tenant: t})
	}
	for _, p := range cfg.TenantFileProblems {
		out = append(out, problemEntry(cfg.TenantsDir, p))
	}
	slices.SortStableFunc(out, func(a, b fleetEntry) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// problemEntry names the tenant of an unusable tenant file after the file,
// as config.ReadTenantFile would have. Its errors start with the file's path,
// which the entry's Source replaces. An error that names no file (the
// directory itself could not be read) becomes the entry "(tenants_dir)".
func problemEntry(dir string, problem error) fleetEntry {
	msg := problem.Error()
	if dir != "" && strings.HasPrefix(msg, dir+string(filepath.Separator)) {
		if path, rest, ok := strings.Cut(msg, ": "); ok {
			name := filepath.Base(path)
			return fleetEntry{ID: config.TenantIDOfFile(name), Source: name, Problem: redactDSN(oneLine(rest))}
		}
	}
	return fleetEntry{ID: "(tenants_dir)", Source: dir, Problem: redactDSN(oneLine(msg))}
}

// forEachTenant runs fn on the entries, at most n at once, and hands each
// result to done in the calling goroutine, in the order they finish. Once
// ctx ends no entry starts; done is called only for the entries that ran.
func forEachTenant[R any](ctx context.Context, entries []fleetEntry, n int, fn func(context.Context, fleetEntry) R, done func(fleetEntry, R)) {
	type result struct {
		e fleetEntry
		r R
	}
	jobs := make(chan fleetEntry)
	results := make(chan result)
	var wg sync.WaitGroup
	for range min(n, len(entries)) {
		wg.Go(func() {
			for e := range jobs {
				results <- result{e, fn(ctx, e)}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, e := range entries {
			select {
			case jobs <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		done(r.e, r.r)
	}
}

// fleetOpenTimeout bounds reaching one tenant's database in the fleet commands,
// so an unreachable server costs each of its tenants that long, not the
// operating system's connect timeout.
const fleetOpenTimeout = 10 * time.Second

// openEntry resolves the tenant's DSN and opens its pool. server is the
// DSN's host:port (never its user or password), known as soon as the DSN
// parses.
func openEntry(ctx context.Context, e fleetEntry) (db *sql.DB, server string, fail *failure) {
	if e.Problem != "" {
		return nil, "", e.fileFailure()
	}
	dsn, err := e.Tenant.ResolveDSN()
	if err != nil {
		return nil, "", &failure{where: "DSN", what: withoutTenant(e.ID, oneLine(err.Error()))}
	}
	dc, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's message may quote the DSN, password included.
		return nil, "", &failure{where: "DSN", what: "not valid", fix: "expected user:password@tcp(host:3306)/database"}
	}
	server = dc.Addr
	if dc.Net == "unix" {
		server = "unix:" + dc.Addr
	}
	octx, cancel := context.WithTimeout(ctx, fleetOpenTimeout)
	defer cancel()
	pool, err := tenant.Open(octx, e.Tenant)
	if err != nil {
		f := classify(err)
		f.where = "cannot connect to the database at " + server
		return nil, server, &f
	}
	return pool, server, nil
}

// isTerminal reports whether w is a terminal, where progress is redrawn in
// place rather than printed line after line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress is the one line a fleet command keeps on stderr while it works:
// redrawn in place on a terminal; elsewhere (a log file, CI) printed at each
// tenth of the way or, while tenants finish, every 2 s, so a thousand
// tenants make a few lines instead of a thousand.
type progress struct {
	w                   io.Writer
	label               string
	total, done, failed int
	tty, quiet          bool
	drawn               bool // a line without its newline is on the terminal
	printedAt           time.Time
	printedDone         int
}

// newProgress reports on w; ttyOnly keeps it quiet unless w is a terminal,
// for commands whose output is the report itself.
func newProgress(w io.Writer, label string, total int, ttyOnly bool) *progress {
	tty := isTerminal(w)
	return &progress{w: w, label: label, total: total, tty: tty, quiet: total == 0 || (ttyOnly && !tty), printedDone: -1}
}

func (p *progress) line() string {
	return fmt.Sprintf("%s: %d/%d tenants, %d failed", p.label, p.done, p.total, p.failed)
}

func (p *progress) step(failed bool) {
	p.done++
	if failed {
		p.failed++
	}
	if p.quiet {
		return
	}
	since := time.Since(p.printedAt)
	switch {
	case p.tty && (since >= 100*time.Millisecond || p.done == p.total):
		p.draw()
	case !p.tty && (p.done*10/p.total != p.printedDone*10/p.total || since >= 2*time.Second):
		fmt.Fprintln(p.w, p.line())
		p.printedAt, p.printedDone = time.Now(), p.done
	}
}

func (p *progress) draw() {
	fmt.Fprintf(p.w, "\r%s\033[K", p.line())
	p.drawn, p.printedAt, p.printedDone = true, time.Now(), p.done
}

// above prints with show (to stdout, usually the same terminal) above the
// progress line, which is erased first and drawn again after.
func (p *progress) above(show func()) {
	if !p.tty || !p.drawn {
		show()
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
	show()
	p.draw()
}

// finish leaves the final count on its own line.
func (p *progress) finish() {
	switch {
	case p.quiet:
	case p.tty:
		if p.printedDone != p.done || !p.drawn {
			p.draw()
		}
		fmt.Fprintln(p.w)
		p.drawn = false
	case p.printedDone != p.done:
		fmt.Fprintln(p.w, p.line())
	}
}

func tenantCount(n int) string {
	if n == 1 {
		return "1 tenant"
	}
	return fmt.Sprintf("%d tenants", n)
}
