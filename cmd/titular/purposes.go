package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/titular/titular/keyring"
	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

// runPurposes handles `titular purposes load`: the tenant's purpose catalog
// and terms from a YAML file, so a DPO can keep them as code and the demo
// starts with its purposes ready. Run it after `titular migrate`.
func runPurposes(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "load" {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("purposes: the subcommand is 'load'")
	}
	cmd := newConfigCommand("purposes load")
	tenantID := cmd.fs.String("tenant", "", "tenant id (required)")
	file := cmd.fs.String("file", "", "purposes file, e.g. examples/realestate/purposes.yaml (required)")
	cfg, log, err := cmd.load(args[1:])
	if err != nil {
		return err
	}
	if *tenantID == "" || *file == "" {
		return errors.New("purposes load: --tenant and --file are required")
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("purposes load: %w", err)
	}
	catalog, err := decodeCatalog(raw, *file)
	if err != nil {
		return err
	}
	tenants := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	defer func() { _ = tenants.Close() }()
	t, err := tenants.Get(ctx, *tenantID)
	if err != nil {
		return err
	}
	loaded, err := service.LoadPurposes(ctx, t, catalog, "titular purposes load")
	for _, p := range loaded {
		state := "kept"
		if p.Created {
			state = "created"
		}
		term := "term already published"
		if p.PublishedTerm != "" {
			term = "term " + p.PublishedTerm + " published and in force"
		}
		fmt.Fprintf(stdout, "purpose %-22s %s; %s\n", p.ID, state, term)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	return nil
}

// decodeCatalog reads a purposes file, refusing unknown keys.
func decodeCatalog(raw []byte, name string) (service.PurposeCatalog, error) {
	var catalog service.PurposeCatalog
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&catalog); err != nil {
		return catalog, fmt.Errorf("%s: %w (see examples/realestate/purposes.yaml for the format)", name, err)
	}
	return catalog, nil
}
