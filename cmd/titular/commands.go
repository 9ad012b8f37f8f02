package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/titular/titular/config"
)

// errUsage marks a command-line mistake; the usage text was already printed.
var errUsage = errors.New("see the usage above")

const usage = `titular — LGPD data-subject rights for a multi-tenant real-estate CRM

Usage:
  titular demo           [--grpc-addr ADDR] [--http-addr ADDR] [--db-addr ADDR] [--subjects N]
  titular serve          --config FILE [--grpc-addr ADDR] [--http-addr ADDR] [--migrate]
  titular migrate        --config FILE [--concurrency N] [--tenant ID]
  titular purposes load --config FILE --tenant ID --file FILE
  titular incident create|list|show|notify --config FILE --tenant ID … (titular incident for its flags)
  titular sweep          --config FILE [--tenant ID] [--dry-run [--as-of YYYY-MM-DD]]
  titular seed           --dsn DSN [--subjects N] [--seed N] [--heavy N] [--reset]
  titular datamap check  --config FILE [--samples N]
  titular datamap coverage --config FILE --tenant ID [--samples N] [--scan-rows N] [--format text|json]
  titular datamap inventory (--config FILE --tenant ID | --datamap FILE) --out FILE.xlsx|FILE.csv
  titular tenants list   --config FILE [--concurrency N] [--json]
  titular tenants check  --config FILE [--concurrency N] [--tenant ID]
  titular ledger verify     --config FILE --tenant ID [--checkpoint FILE ...] [--public-key FILE] [--offline]
  titular ledger checkpoint --config FILE --tenant ID
  titular ledger keygen     --out PREFIX [--name HOST]
  titular receipt verify FILE [--export FILE ...] [--key PUBKEY]
  titular token keygen   --out PREFIX
  titular token mint     --key FILE --tenant ID --issuer NAME --verified-by METHOD [--cpf C] [--email E] [--phone P] [--ttl D]
  titular bench          --dsn DSN [--subjects N] [--heavy N] [--duration D] [--runs N] [--scenario a,b] [--json] [--keep]
  titular datamap discover --dsn DSN [--samples N]
  titular version

Common flags: --log-level debug|info|warn|error, --log-format json|text
Run 'titular COMMAND -h' for a command's flags.
`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return runDemo(ctx, rest)
	case "serve":
		return runServe(ctx, rest)
	case "migrate":
		return runMigrate(ctx, rest)
	case "sweep":
		return runSweep(ctx, rest, os.Stdout)
	case "seed":
		return runSeed(ctx, rest)
	case "purposes":
		return runPurposes(ctx, rest, os.Stdout)
	case "incident":
		return runIncident(ctx, rest, os.Stdout)
	case "bench":
		return runBench(ctx, rest, os.Stdout, os.Stderr)
	case "ledger":
		return runLedger(ctx, rest, os.Stdout)
	case "receipt":
		return runReceipt(rest, os.Stdout)
	case "token":
		return runToken(rest, os.Stdout)
	case "tenants":
		return runTenants(ctx, rest, os.Stdout, os.Stderr)
	case "datamap":
		if len(rest) > 0 && rest[0] == "discover" {
			return runDatamapDiscover(ctx, rest[1:])
		}
		if len(rest) > 0 && rest[0] == "coverage" {
			return runDatamapCoverage(ctx, rest[1:], os.Stdout)
		}
		if len(rest) > 0 && rest[0] == "inventory" {
			return runDatamapInventory(rest[1:], os.Stdout)
		}
		if len(rest) == 0 || rest[0] != "check" {
			fmt.Fprint(os.Stderr, usage)
			return errors.New("datamap: the subcommand is 'check', 'discover', 'coverage' or 'inventory'")
		}
		return runDatamapCheck(ctx, rest[1:])
	case "version":
		fmt.Println("titular", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// logFlags are the logging flags every command takes.
type logFlags struct {
	level, format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "json", "log format: json or text")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(l.format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use json or text", l.format)
}

// parse parses fs (on which register was called) and returns the logger the
// log flags ask for.
func (l *logFlags) parse(fs *flag.FlagSet, args []string) (*slog.Logger, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return l.logger(os.Stderr)
}

// parse parses a command's flags and refuses stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// configCommand is what every command over a config file shares: --config
// and the log flags.
type configCommand struct {
	fs   *flag.FlagSet
	path string
	lf   logFlags
}

func newConfigCommand(name string) *configCommand {
	c := &configCommand{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.StringVar(&c.path, "config", "", "config file (required)")
	c.lf.register(c.fs)
	return c
}

// load parses args, then returns the logger and the validated config.
func (c *configCommand) load(args []string) (*config.Config, *slog.Logger, error) {
	log, err := c.lf.parse(c.fs, args)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(c.path)
	if err != nil {
		return nil, nil, err
	}
	return cfg, log, nil
}
