package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// IsTenantFile reports whether a file name in a tenants_dir is a tenant
// file: *.yaml or *.yml, not hidden (editors and ConfigMap mounts leave
// dot-files beside the real ones).
func IsTenantFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// TenantIDOfFile is the tenant id a tenant file's name gives: its name
// without the extension.
func TenantIDOfFile(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// ReadTenantFile reads one tenant file of the tenants_dir: the keys of a
// tenants[] entry, relative paths resolved from the file's own directory.
// The id defaults to the file name; when given it must equal it, so the
// file that serves a tenant is never in doubt.
func (c *Config) ReadTenantFile(path string) (Tenant, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: a file of the tenants_dir the operator configured
	if err != nil {
		return Tenant{}, fmt.Errorf("%s: %w", path, err)
	}
	var t Tenant
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return Tenant{}, fmt.Errorf("%s: %w (a tenant file holds the keys of one tenants[] entry)", path, err)
	}
	stem := TenantIDOfFile(path)
	switch {
	case t.ID == "":
		t.ID = stem
	case t.ID != stem:
		return Tenant{}, fmt.Errorf("%s: id %q differs from the file name; name the file %s.yaml or drop the id", path, t.ID, t.ID)
	}
	t.applyDefaults(filepath.Dir(path))
	t.Source = path
	errs := t.validate(filepath.Base(path))
	errs = append(errs, c.validatePool(t, filepath.Base(path))...)
	if t.Server != "" {
		if _, ok := c.Databases.server(t.Server); !ok {
			errs = append(errs, fmt.Errorf("%s.server: %q is not in databases.servers", filepath.Base(path), t.Server))
		}
	}
	if len(errs) > 0 {
		return Tenant{}, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return t, nil
}

// TenantFiles lists the tenant files of the tenants_dir, sorted by name.
func (c *Config) TenantFiles() ([]string, error) {
	if c.TenantsDir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(c.TenantsDir)
	if err != nil {
		return nil, fmt.Errorf("tenants_dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && IsTenantFile(e.Name()) {
			out = append(out, filepath.Join(c.TenantsDir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// InlineTenants are the tenants listed in the config file itself.
func (c *Config) InlineTenants() []Tenant { return c.inline }

// Catalog is every tenant as of now: the config file's, then the
// tenants_dir's, and the problems of the files that could not be used.
func (c *Config) Catalog() ([]Tenant, []error) {
	files, err := c.TenantFiles()
	if err != nil {
		return c.inline, []error{err}
	}
	var fromFiles []Tenant
	var problems []error
	for _, f := range files {
		t, err := c.ReadTenantFile(f)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		fromFiles = append(fromFiles, t)
	}
	all, dup := Merge(c.inline, fromFiles)
	return all, append(problems, dup...)
}

// Merge returns the inline tenants followed by fromFiles, leaving out (and
// reporting) a file whose tenant the config file already lists.
func Merge(inline, fromFiles []Tenant) ([]Tenant, []error) {
	all := append([]Tenant(nil), inline...)
	seen := map[string]bool{}
	for _, t := range inline {
		seen[t.ID] = true
	}
	var problems []error
	for _, t := range fromFiles {
		if seen[t.ID] {
			problems = append(problems, fmt.Errorf("%s: tenant %s is also listed in the config file; keep one of them", t.Source, t.ID))
			continue
		}
		seen[t.ID] = true
		all = append(all, t)
	}
	return all, problems
}
