package bench

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// peakRSSAbove runs fn and returns the process's peak resident memory while
// it ran, in MiB above the idle level before it, or -1 where /proc is not
// available.
//
// Idle is measured after a collection that returns freed pages to the OS,
// so memory kept from an earlier run does not hide this run's growth. The
// peak is the kernel's high-water mark (VmHWM) after resetting it through
// /proc/self/clear_refs; where that reset is refused, VmRSS is sampled
// every 2ms instead, which can miss short spikes. The figure covers the
// whole process: with the in-process server that includes its goroutines,
// which are idle in the sequential scenarios.
func peakRSSAbove(fn func() error) (float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	idle, err := procStatus("VmRSS")
	if err != nil {
		return -1, fn()
	}
	if os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil {
		if err := fn(); err != nil {
			return 0, err
		}
		hwm, err := procStatus("VmHWM")
		if err != nil {
			return -1, nil //nolint:nilerr // memory is reported unknown, the run stands
		}
		return mib(hwm - min(idle, hwm)), nil
	}
	// Only the sampler writes peak; it is read after wg.Wait.
	var (
		peak = idle
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v, err := procStatus("VmRSS"); err == nil {
					peak = max(peak, v)
				}
			}
		}
	})
	err = fn()
	close(stop)
	wg.Wait()
	return mib(peak - idle), err
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// procStatus reads a "Name:   123 kB" line of /proc/self/status, in bytes.
func procStatus(name string) (uint64, error) { return procStatusOf("self", name) }

// procStatusOf reads a "Name:   123 kB" line of /proc/<pid>/status, in
// bytes; pid is a process id or "self".
func procStatusOf(pid, name string) (uint64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/status") //nolint:gosec // G304: /proc of "self" or of the child the bench started
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(k) != name {
			continue
		}
		f := bytes.Fields(v)
		if len(f) < 1 {
			break
		}
		n, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, err
		}
		return n << 10, nil // kB
	}
	return 0, errors.New("bench: /proc/" + pid + "/status has no " + name)
}
