package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// FleetScenario is the name --scenario selects the fleet scenario by. It
// runs on its own: it provisions its own databases and starts titular as a
// child process, where the other scenarios share one seeded tenant served
// in-process.
const FleetScenario = "fleet"

// FleetOptions tunes the fleet scenario: one titular serving many small
// tenant databases on one server.
type FleetOptions struct {
	// Tenants is the number of tenant databases (default 300).
	Tenants int
	// Unreachable adds tenants whose database never answers (half of them
	// a server that accepts connections and says nothing, half a closed
	// port); zero adds none.
	Unreachable int
	// Settle is how long titular runs after it is ready before the idle
	// window, so the backstop polls have slowed to their longest (default
	// 90s); Idle is the idle window itself (default 60s).
	Settle, Idle time.Duration
	// Samples is how many requests the claim latency is measured on, one
	// at a time on random tenants (default 100).
	Samples int
	// BurstTenants tenants get BurstRequests EXTRACTs each at once
	// (default 100 and 10); Noisy requests are queued on one tenant while
	// another's latency is measured (default 200). Rounds repeats both
	// (default 3).
	BurstTenants, BurstRequests, Noisy, Rounds int
	// Provisioners is how many databases are created at once (default 8).
	Provisioners int
	// StartTimeout bounds titular's start, to ready (default 5m).
	StartTimeout time.Duration
	// Datamap is the data map of every fleet tenant (examples/fleet/datamap.yaml).
	Datamap string
}

func (o *Options) fleetDefaults() error {
	if o.DSN == "" {
		return errors.New("bench: a DSN is required, e.g. 'root@tcp(127.0.0.1:3306)/'")
	}
	if len(o.ServeCommand) == 0 {
		return errors.New("bench: the fleet scenario needs ServeCommand, the command line of `titular serve`")
	}
	f := &o.Fleet
	setDefault(&f.Tenants, 300)
	setDefault(&f.Samples, 100)
	setDefault(&f.BurstTenants, 100)
	setDefault(&f.BurstRequests, 10)
	setDefault(&f.Noisy, 200)
	setDefault(&f.Rounds, 3)
	setDefault(&f.Provisioners, 8)
	setDefault(&o.Clients, 32)
	setDefault(&f.Settle, 90*time.Second)
	setDefault(&f.Idle, 60*time.Second)
	setDefault(&f.StartTimeout, 5*time.Minute)
	if f.Datamap == "" {
		f.Datamap = "examples/fleet/datamap.yaml"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if f.Tenants < 2 || f.Tenants > 9999 || f.Unreachable < 0 || f.Samples < 1 || f.BurstTenants < 1 || f.BurstRequests < 1 ||
		f.Noisy < 1 || f.Rounds < 1 || f.Provisioners < 1 || f.Settle < 0 || f.Idle <= 0 {
		return errors.New("bench: --tenants must be 2 to 9999, --fleet-unreachable and --fleet-settle not negative, and the other --fleet- counts and --fleet-idle positive")
	}
	return nil
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// fleet is one run of the fleet scenario.
type fleet struct {
	opts    Options
	fo      FleetOptions
	started time.Time
	cleanup []func()

	server *mysql.Config // the DSN's server, no database
	// dbAddr is where the server listens, to count titular's connections
	// to it; dbAddrOK is false when that is not known (a Unix socket DSN).
	dbAddr   dbServer
	dbAddrOK bool
	admin    *sql.DB // creating and dropping databases, reading request events
	status   *sql.DB // one connection: the server's counters
	// benchStatements counts the statements the bench sends the server
	// while titular runs (status reads, queue counts, event reads), to take
	// them out of Questions; only the run's own goroutine sends them.
	benchStatements int

	tenants   []fleetTenant // the reachable ones first, then the unreachable
	dbPattern string        // LIKE pattern of this run's database names
	created   atomic.Int64

	serve              *child
	grpcAddr, httpAddr string
	apiKey             string
	grpc               *grpc.ClientConn
	http               *http.Client
	listening, ready   time.Duration
	readyLine          readiness

	figures []Figure
	failed  int  // requests that ended other than COMPLETED
	ok      bool // the run succeeded: nothing to keep for a look
}

func (f *fleet) progress(format string, args ...any) {
	fmt.Fprintf(f.opts.Progress, "bench [%5.1fs] fleet: "+format+"\n", append([]any{time.Since(f.started).Seconds()}, args...)...)
}

func (f *fleet) close() {
	for i := len(f.cleanup) - 1; i >= 0; i-- {
		f.cleanup[i]()
	}
}

// reachable are the tenants with a database.
func (f *fleet) reachable() []fleetTenant {
	return slices.DeleteFunc(slices.Clone(f.tenants), func(t fleetTenant) bool { return t.down })
}

// runFleet runs the fleet scenario: provision, start titular, let it
// settle, measure it idle, then measure requests on it.
func runFleet(ctx context.Context, opts Options) (_ *Report, err error) {
	if err := opts.fleetDefaults(); err != nil {
		return nil, err
	}
	f := &fleet{opts: opts, fo: opts.Fleet, started: time.Now()}
	defer func() {
		f.ok = err == nil
		f.close()
	}()
	if f.server, err = serverConfig(opts.DSN); err != nil {
		return nil, err
	}
	f.dbAddr, f.dbAddrOK = resolveServer(f.server.Net, f.server.Addr)
	// The bench reads DATETIMEs and sends arguments inline, as titular does.
	f.server.ParseTime, f.server.Loc, f.server.InterpolateParams = true, time.UTC, true
	if f.admin, err = openAdmin(ctx, f.server, f.fo.Provisioners+1); err != nil {
		return nil, err
	}
	f.cleanup = append(f.cleanup, func() { _ = f.admin.Close() })
	if f.status, err = openAdmin(ctx, f.server, 1); err != nil {
		return nil, err
	}
	f.cleanup = append(f.cleanup, func() { _ = f.status.Close() })
	f.databaseNames()
	f.cleanup = append(f.cleanup, func() { f.dropDatabases(ctx) })
	if err := f.provision(ctx); err != nil {
		return nil, err
	}
	if err := f.addUnreachable(f.fo.Unreachable); err != nil {
		return nil, err
	}
	rep := &Report{Machine: describeMachine(ctx, f.admin), StartedAt: f.started.UTC(), Database: f.dbPattern, Options: f.reportOptions()}
	if err := f.measure(ctx); err != nil {
		return nil, err
	}
	rep.Figures = f.figures
	rep.Elapsed = time.Since(f.started).Round(time.Millisecond).String()
	f.progress("done in %s", rep.Elapsed)
	return rep, nil
}

// measure runs titular and takes every figure.
func (f *fleet) measure(ctx context.Context) error {
	run := serverSettings{admin: f.admin}
	defer func() {
		if err := run.restore(ctx); err != nil {
			f.progress("%v", err)
		}
	}()
	if err := f.connectionRoom(ctx, &run); err != nil {
		return err
	}
	f.http = &http.Client{Timeout: 10 * time.Second}
	if err := f.background(ctx, "before titular"); err != nil {
		return err
	}
	if err := f.startServe(ctx); err != nil {
		return err
	}
	f.startFigures()
	var err error
	if f.grpc, err = grpc.NewClient(f.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		return fmt.Errorf("gRPC client: %w", err)
	}
	f.cleanup = append(f.cleanup, func() { _ = f.grpc.Close() })
	for _, phase := range []func(context.Context) error{f.settle, f.idle, f.claimLatency, f.noisyNeighbour, f.burst, f.finish} {
		if err := phase(ctx); err != nil {
			return err
		}
	}
	return nil
}

// connectionRoom raises max_connections, for the run, to what a titular
// holding a pool per tenant (a connection or two each) would need: the
// figures then say how many connections titular holds instead of the run
// failing at the server's limit.
func (f *fleet) connectionRoom(ctx context.Context, run *serverSettings) error {
	cur, err := run.get(ctx, "max_connections")
	if err != nil {
		return err
	}
	var n int
	if _, err := fmt.Sscan(cur, &n); err != nil {
		return fmt.Errorf("max_connections %q: %w", cur, err)
	}
	if want := 2*len(f.tenants) + 100; n < want {
		if err := run.set(ctx, "max_connections", fmt.Sprint(want)); err != nil {
			f.progress("max_connections stays %d: %v", n, err)
			return nil
		}
		f.progress("max_connections raised from %d to %d for the run", n, want)
	}
	return nil
}

func (f *fleet) reportOptions() map[string]any {
	o := f.fo
	return map[string]any{
		"scenario": FleetScenario, "tenants": o.Tenants, "unreachable": o.Unreachable, "settle": o.Settle.String(), "idle": o.Idle.String(),
		"samples": o.Samples, "burst_tenants": o.BurstTenants, "burst_requests": o.BurstRequests, "noisy": o.Noisy, "rounds": o.Rounds,
		"clients": f.opts.Clients, "provisioners": o.Provisioners, "keep": f.opts.Keep, "titulares_per_tenant": fleetTitulares,
	}
}
