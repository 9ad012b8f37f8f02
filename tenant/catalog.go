package tenant

import (
	"context"
	"os"
	"reflect"
	"sort"
	"time"

	"github.com/titular/titular/config"
)

// Catalog watching: how often the tenants_dir is looked at, and how many
// tenants open at once.
const (
	watchInterval   = 2 * time.Second
	openConcurrency = 16
)

// apply makes list the catalog: new tenants are added (opened by Run or on
// first use), changed ones reopened with their new configuration, missing
// ones removed. A removed or replaced tenant's pool closes once the
// background work using it is done.
func (r *Registry) apply(list []config.Tenant) {
	r.mu.Lock()
	var removed []string
	want := make(map[string]config.Tenant, len(list))
	for _, tc := range list {
		want[tc.ID] = tc
	}
	for id, e := range r.entries {
		if _, ok := want[id]; ok {
			continue
		}
		delete(r.entries, id)
		r.initial.forget(id)
		if e.t != nil {
			r.retireLocked(e.t)
		}
		removed = append(removed, id)
		r.log.Info("tenant removed; its work in hand finishes", "tenant", id)
	}
	for id, tc := range want {
		e := r.entries[id]
		switch {
		case e == nil:
			e = &entry{cfg: tc, health: Health{ID: id, State: StateOpening, Since: time.Now(), Source: tc.Source}}
			r.entries[id] = e
			if r.initial.pending != nil {
				r.log.Info("tenant added", "tenant", id)
			}
		case !reflect.DeepEqual(e.cfg, tc):
			// Reopened with the new configuration; the old pool serves the
			// work in hand and closes after.
			if e.t != nil {
				r.retireLocked(e.t)
			}
			e.cfg, e.t, e.opening, e.err, e.failures = tc, nil, nil, nil, 0
			e.health = Health{ID: id, State: StateOpening, Since: time.Now(), Source: tc.Source}
			r.log.Info("tenant reconfigured; reopening", "tenant", id)
		}
	}
	r.ids = r.ids[:0]
	for id := range r.entries {
		r.ids = append(r.ids, id)
	}
	sort.Strings(r.ids)
	onRemove := r.OnRemove
	r.mu.Unlock()
	if onRemove != nil {
		for _, id := range removed {
			onRemove(id)
		}
	}
	r.poke()
}

func (r *Registry) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run opens the catalog's tenants (openConcurrency at a time), retries
// those that failed when their backoff ends, and keeps the catalog in step
// with the tenants_dir (looked at every watchInterval) and with the config
// file on each reload (SIGHUP), until ctx ends.
func (r *Registry) Run(ctx context.Context, reload <-chan os.Signal) {
	r.mu.Lock()
	var untried []string
	for _, id := range r.ids {
		if e := r.entries[id]; e.health.State == StateOpening {
			untried = append(untried, id)
		}
	}
	r.initial.begin(untried, len(r.ids))
	r.mu.Unlock()
	w := newDirWatch(r.cfg)
	if r.cfg.TenantsDir != "" {
		r.rescan(w, false)
	}
	sem := make(chan struct{}, openConcurrency)
	watch := time.NewTicker(watchInterval)
	defer watch.Stop()
	for {
		next := r.openDue(sem) //nolint:contextcheck // opens are shared by every waiter: see openInto
		var retry <-chan time.Time
		if !next.IsZero() {
			retry = time.After(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-retry:
		case <-watch.C:
			if r.cfg.TenantsDir != "" {
				r.rescan(w, false)
			}
		case <-reload:
			r.log.Info("reloading the tenant catalog")
			r.rescan(w, true)
		}
	}
}

// openDue starts opening every tenant that was never tried or whose retry
// is due, within sem, and returns when the next retry falls due.
func (r *Registry) openDue(sem chan struct{}) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return time.Time{}
	}
	now := time.Now()
	var next time.Time
	for _, id := range r.ids {
		e := r.entries[id]
		if e.t != nil || e.opening != nil {
			continue
		}
		if e.health.State == StateDown && now.Before(e.health.RetryAt) {
			if next.IsZero() || e.health.RetryAt.Before(next) {
				next = e.health.RetryAt
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			// All slots busy: try again when one frees.
			if next.IsZero() || now.Add(100*time.Millisecond).Before(next) {
				next = now.Add(100 * time.Millisecond)
			}
			continue
		}
		o := r.startOpenLocked(e)
		go func() {
			<-o.done
			<-sem
			r.poke()
		}()
	}
	return next
}

// rescan reads the tenants_dir's changed files (and, on reload, the config
// file's tenant list) and applies the catalog they make. A file that cannot
// be used is reported and skipped; if it served a tenant before, that
// tenant keeps its last good configuration.
func (r *Registry) rescan(w *dirWatch, reload bool) {
	if reload {
		if c, err := config.Load(r.cfg.Path()); err != nil {
			r.log.Error("reload: the config file is not valid; keeping the tenants it listed", "error", firstLine(err.Error()))
		} else {
			w.inline = c.InlineTenants()
		}
	}
	changed, problems := w.scan(reload)
	if !changed && !reload {
		return
	}
	list, dups := config.Merge(w.inline, w.tenants())
	r.mu.Lock()
	r.problems = map[string]error{}
	for _, p := range append(problems, dups...) {
		r.problems[problemKey(p)] = p
	}
	for _, p := range r.problems {
		r.log.Warn("tenant file skipped", "problem", firstLine(p.Error()))
	}
	r.mu.Unlock()
	r.apply(list)
}

func problemKey(err error) string { return firstLine(err.Error()) }

// dirWatch remembers the tenants_dir's files by modification time and
// size, so a scan re-reads only what changed. Adding, removing or renaming
// a file (how editors and Kubernetes ConfigMaps update) changes the
// directory's own time, so a scan whose directory did not change only
// looks at the files every fullScanEvery, for edits made in place: with a
// thousand tenant files, stat-ing each every two seconds would cost more
// than the thousand idle tenants themselves.
type dirWatch struct {
	cfg      *config.Config
	inline   []config.Tenant
	files    map[string]watchedFile
	dirMod   time.Time
	lastFull time.Time
}

const fullScanEvery = 30 * time.Second

type watchedFile struct {
	mod  time.Time
	size int64
	good *config.Tenant // last good reading, if any
	err  error
}

// newDirWatch starts with no file known: Run's first scan reads them all,
// so a change between loading the config and starting is not missed.
func newDirWatch(cfg *config.Config) *dirWatch {
	return &dirWatch{cfg: cfg, inline: cfg.InlineTenants(), files: map[string]watchedFile{}}
}

// scan reads new and changed tenant files (all of them when force) and
// reports whether anything changed, with the problems of unusable files.
func (w *dirWatch) scan(force bool) (changed bool, problems []error) {
	if fi, err := os.Stat(w.cfg.TenantsDir); err == nil {
		if !force && fi.ModTime().Equal(w.dirMod) && time.Since(w.lastFull) < fullScanEvery {
			return false, nil
		}
		w.dirMod = fi.ModTime()
	}
	w.lastFull = time.Now()
	paths, err := w.cfg.TenantFiles()
	if err != nil {
		return false, []error{err}
	}
	seen := map[string]bool{}
	for _, p := range paths {
		seen[p] = true
		fi, err := os.Stat(p)
		if err != nil {
			continue // removed meanwhile: the next scan drops it
		}
		old, known := w.files[p]
		if known && !force && old.mod.Equal(fi.ModTime()) && old.size == fi.Size() {
			if old.err != nil {
				problems = append(problems, old.err)
			}
			continue
		}
		changed = true
		f := watchedFile{mod: fi.ModTime(), size: fi.Size(), good: old.good}
		if t, err := w.cfg.ReadTenantFile(p); err != nil {
			f.err = err
			problems = append(problems, err)
		} else {
			f.good = &t
		}
		w.files[p] = f
	}
	for p := range w.files {
		if !seen[p] {
			delete(w.files, p)
			changed = true
		}
	}
	return changed, problems
}

// tenants are the last good readings of the files present, by file name.
func (w *dirWatch) tenants() []config.Tenant {
	paths := make([]string, 0, len(w.files))
	for p := range w.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []config.Tenant
	for _, p := range paths {
		if g := w.files[p].good; g != nil {
			out = append(out, *g)
		}
	}
	return out
}
