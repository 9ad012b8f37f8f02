package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is titular serve running as a process of its own, so that its CPU
// time and memory can be read from /proc apart from the bench's.
type child struct {
	cmd     *exec.Cmd
	pid     string
	started time.Time
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	stopped bool          // stop was called: its exit is expected
}

// startChild starts command with args, its output going to logPath.
func startChild(command []string, args []string, logPath string) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) //nolint:gosec // G304: a file in the bench's own temp directory
	if err != nil {
		return nil, fmt.Errorf("titular's log file: %w", err)
	}
	// The child holds its own descriptor and does all the writing; the
	// bench writes nothing through this one, so its Close loses nothing.
	defer func() { _ = logf.Close() }()
	cmd := exec.Command(command[0], append(command[1:], args...)...) //nolint:gosec // G204: Options.ServeCommand, titular's own executable (cmd/titular passes os.Executable()), with the bench's flags
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childProcAttr()
	c := &child{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	c.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", strings.Join(command, " "), err)
	}
	c.pid = strconv.Itoa(cmd.Process.Pid)
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// exited returns an error when the process has ended, with the end of its
// log: titular says why it stopped there.
func (c *child) exited() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	status := "exited"
	if c.waitErr != nil {
		status = c.waitErr.Error()
	}
	return fmt.Errorf("titular serve stopped (%s); the end of its log (%s):\n%s", status, c.logPath, c.logTail(8))
}

// logTail returns the last n lines of the child's log.
func (c *child) logTail(n int) string {
	data, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return "  " + strings.Join(lines[max(0, len(lines)-n):], "\n  ")
}

// stop asks titular to shut down (SIGTERM, as an orchestrator would) and
// kills it when it has not stopped within grace. It returns how long the
// shutdown took.
func (c *child) stop(grace time.Duration) (time.Duration, error) {
	if c.stopped {
		return 0, nil
	}
	c.stopped = true
	select {
	case <-c.done: // it ended on its own; whoever watched it said so
		return 0, nil
	default:
	}
	t0 := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("signal titular: %w", err)
	}
	select {
	case <-c.done:
		return time.Since(t0), nil
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
		return time.Since(t0), fmt.Errorf("titular did not stop within %s of SIGTERM and was killed", grace)
	}
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the user plus system CPU time the process has used.
func (c *child) cpuTime() (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + c.pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("titular's CPU time: %w", err)
	}
	return parseStatCPU(data)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("bench: /proc/<pid>/stat is not in the expected format")
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("bench: /proc/<pid>/stat has too few fields")
	}
	var cpu time.Duration
	for _, s := range f[11:13] {
		// Parsed into a Duration's int64, so no conversion can overflow.
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /proc/<pid>/stat: %w", err)
		}
		if n < 0 {
			return 0, fmt.Errorf("bench: /proc/<pid>/stat: negative CPU time %d", n)
		}
		// A tick is a whole number of nanoseconds (10 ms): multiplying by
		// it, rather than by a second and then dividing, overflows only
		// where a Duration ends (292 years of CPU), not at 2.9 years.
		cpu += time.Duration(n) * (time.Second / clockTicks)
	}
	return cpu, nil
}

// memory returns the process's resident memory now (VmRSS) and its peak
// (VmHWM), in MiB.
func (c *child) memory() (rss, peak float64, err error) {
	r, err := procStatusOf(c.pid, "VmRSS")
	if err != nil {
		return 0, 0, err
	}
	h, err := procStatusOf(c.pid, "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	return mib(r), mib(h), nil
}
