package bench

import (
	"context"
	"fmt"
	"time"
)

// background measures the server without titular (before it starts and
// after it stops): what other clients send it, so that a shared server
// shows in the report instead of passing for titular's idle cost.
func (f *fleet) background(ctx context.Context, when string) error {
	window := min(5*time.Second, f.fo.Idle)
	f.progress("measuring the server without titular for %s (%s)", window, when)
	a, err := f.readStatus(ctx)
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, window); err != nil {
		return err
	}
	b, err := f.readStatus(ctx)
	if err != nil {
		return err
	}
	stmts, conns := statementRate(a, b), b.othersConnected()
	if stmts > quietServer {
		f.progress("the server is busy without titular (%.0f statements/s, %d connections %s): the idle figures, read from its global counters, include that; "+
			"measure on a server nothing else uses", stmts, conns, when)
	}
	f.figures = append(f.figures,
		figure(when+": statements/s", stmts, "/s", 1,
			fmt.Sprintf("Questions over %s %s (the bench's own statements taken out): other clients of the server", window, when)),
		figure(when+": connections", float64(conns), "", 1, "Threads_connected less the bench's own connections, "+when))
	return nil
}

// quietServer is the most statements/s from other clients under which the
// idle figures are taken to be titular's.
const quietServer = 5

// startFigures reports the start measured by startServe.
func (f *fleet) startFigures() {
	reachable := len(f.reachable())
	down := len(f.tenants) - reachable
	f.figures = append(f.figures,
		figure("start: listening", f.listening.Seconds(), "s", 1,
			"from exec of `titular serve` to its HTTP listener accepting a TCP connection"),
		figure("start: ready", f.ready.Seconds(), "s", 1,
			fmt.Sprintf("from exec to GET /readyz answering 200 with all %d reachable tenants up (%d unreachable configured; /readyz polled every 100 ms)", reachable, down)).
			withGoal("≤ 15 s", f.ready <= 15*time.Second))
	if down == 0 {
		return
	}
	isDown := map[string]bool{}
	for _, t := range f.tenants {
		isDown[t.id] = t.down
	}
	reported := 0
	for _, id := range f.readyLine.down {
		if isDown[id] {
			reported++
		}
	}
	f.figures = append(f.figures, figure("start: unreachable reported", float64(reported), "tenants", 1,
		"unreachable tenants /readyz listed as down, one a line after its first, when it first reported ready").
		withGoal(fmt.Sprintf("= %d", down), reported == down))
}

// settle lets titular run untouched until its backstop polls have slowed
// to their longest, watching that it stays up.
func (f *fleet) settle(ctx context.Context) error {
	f.progress("settling for %s", f.fo.Settle)
	cpu0, err := f.serve.cpuTime()
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := f.watch(ctx, f.fo.Settle); err != nil {
		return err
	}
	cpu1, err := f.serve.cpuTime()
	if err != nil {
		return err
	}
	f.figures = append(f.figures, figure("settle: titular CPU", cpuPercent(cpu1-cpu0, time.Since(t0)), "% of a core", 1,
		fmt.Sprintf("utime+stime of titular's process (/proc/<pid>/stat) over the %s after ready, while its polls slow down", f.fo.Settle)))
	return nil
}

// watch waits d, checking every second that titular is still running.
func (f *fleet) watch(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		if err := f.serve.exited(); err != nil {
			return err
		}
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		if err := sleepCtx(ctx, min(left, time.Second)); err != nil {
			return err
		}
	}
}

// idle measures titular with nothing to do: the statements and
// connections the server sees from it, its CPU time and memory.
func (f *fleet) idle(ctx context.Context) error {
	window := f.fo.Idle
	every := min(5*time.Second, window/4)
	f.progress("measuring idle for %s (a sample every %s)", window, every)
	a, err := f.readStatus(ctx)
	if err != nil {
		return err
	}
	cpu0, err := f.serve.cpuTime()
	if err != nil {
		return err
	}
	conns := []float64{float64(a.othersConnected())}
	var own []float64 // titular's own sockets to the server
	sockets := func() {
		if !f.dbAddrOK {
			return
		}
		if n, err := f.serve.serverSockets(f.dbAddr); err == nil {
			own = append(own, float64(n))
		}
	}
	sockets()
	b := a
	for end := a.at.Add(window); time.Now().Before(end); {
		if err := f.watch(ctx, min(every, time.Until(end))); err != nil {
			return err
		}
		if b, err = f.readStatus(ctx); err != nil {
			return err
		}
		conns = append(conns, float64(b.othersConnected()))
		sockets()
	}
	cpu1, err := f.serve.cpuTime()
	if err != nil {
		return err
	}
	rss, _, err := f.serve.memory()
	if err != nil {
		return err
	}
	el := b.at.Sub(a.at)
	span := fmt.Sprintf("over the %s idle window after %s of settling", el.Round(time.Second), f.fo.Settle)
	stmts := statementRate(a, b)
	f.figures = append(f.figures,
		figure("idle: statements/s", stmts, "/s", 1,
			"Questions (SHOW GLOBAL STATUS on the bench's one status connection) "+span+", less the bench's own statements").
			withGoal("≤ 100/s", stmts <= 100))
	for _, c := range []struct{ name, counter string }{
		{"SELECT", "Com_select"}, {"INSERT", "Com_insert"}, {"UPDATE", "Com_update"}, {"DELETE", "Com_delete"}, {"COMMIT", "Com_commit"},
	} {
		f.figures = append(f.figures, figure("idle: "+c.name+"/s", rate(a, b, c.counter), "/s", 1, c.counter+" "+span))
	}
	peak := slicesMax(conns)
	cpu := cpuPercent(cpu1-cpu0, el)
	f.figures = append(f.figures,
		figure("idle: connections (mean)", mean(conns), "", len(conns),
			fmt.Sprintf("Threads_connected less the bench's own connections, sampled every %s %s", every, span)),
		figure("idle: connections (max)", peak, "", len(conns), "the highest of those samples").withGoal("≤ 64", peak <= 64))
	if len(own) > 0 {
		ownPeak := slicesMax(own)
		f.figures = append(f.figures, figure("idle: titular's connections (max)", ownPeak, "", len(own),
			"titular's own established TCP connections to the server (its socket descriptors in /proc/<pid>/fd matched in /proc/<pid>/net/tcp), "+
				"sampled with the above: the same figure, blind to other clients").withGoal("≤ 64", ownPeak <= 64))
	}
	f.figures = append(f.figures,
		figure("idle: titular CPU", cpu, "% of a core", 1, "utime+stime of titular's process (/proc/<pid>/stat) "+span).
			withGoal("≤ 3%", cpu <= 3),
		figure("idle: titular RSS", rss, "MiB", 1, "VmRSS of titular's process (/proc/<pid>/status) at the end of the idle window").
			withGoal("≤ 256 MiB", rss <= 256))
	return nil
}

func cpuPercent(cpu, wall time.Duration) float64 { return 100 * cpu.Seconds() / wall.Seconds() }

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}

func slicesMax(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
