package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serverSockets counts the process's established TCP connections to the
// database server, from its descriptors and the kernel's socket tables.
// Unlike Threads_connected it counts titular's connections alone, whoever
// else uses the server.
func (c *child) serverSockets(server dbServer) (int, error) {
	fds, err := os.ReadDir("/proc/" + c.pid + "/fd")
	if err != nil {
		return 0, fmt.Errorf("titular's descriptors: %w", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc", c.pid, "fd", fd.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile("/proc/" + c.pid + "/net/" + table) //nolint:gosec // G304: /proc of the child the bench started, a fixed table name
		if err != nil {
			continue // no IPv6 in this kernel
		}
		n += countEstablished(data, server, inodes)
	}
	return n, nil
}

// countEstablished counts the lines of a /proc/net/tcp{,6} table that are
// established connections to server whose socket inode is in inodes.
func countEstablished(table []byte, server dbServer, inodes map[string]bool) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != "01" || !inodes[f[9]] {
			continue
		}
		if r, ok := parseProcAddr(f[2]); ok && r.Port() == server.port && slices.Contains(server.ips, r.Addr().Unmap()) {
			n++
		}
	}
	return n
}

// parseProcAddr reads an address of /proc/net/tcp: the IP as 32-bit words
// in the host's byte order (little-endian here), then ":" and the port, in
// hex.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	h, p, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(h)
	port, perr := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil || perr != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	ip := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(ip[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a, uint16(port)), true
}

// dbServer is where the database server listens: a port and the
// addresses its host name resolves to (localhost may be either loopback).
type dbServer struct {
	port uint16
	ips  []netip.Addr
}

// resolveServer resolves the DSN's host:port for serverSockets; ok is false
// for a Unix socket DSN, whose connections this does not count.
func resolveServer(network, addr string) (dbServer, bool) {
	host, port, err := net.SplitHostPort(addr)
	if network != "tcp" || err != nil {
		return dbServer{}, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	found, lerr := net.LookupIP(host)
	if err != nil || lerr != nil {
		return dbServer{}, false
	}
	s := dbServer{port: uint16(p)}
	for _, ip := range found {
		if a, ok := netip.AddrFromSlice(ip); ok {
			s.ips = append(s.ips, a.Unmap())
		}
	}
	return s, len(s.ips) > 0
}

// peakSockets samples titular's connections to the server every interval
// until the returned stop is called, which returns the highest count seen
// (-1 when they cannot be counted here).
func (f *fleet) peakSockets(every time.Duration) (stop func() int) {
	if !f.dbAddrOK {
		return func() int { return -1 }
	}
	done := make(chan struct{})
	result := make(chan int)
	go func() {
		peak := -1
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if n, err := f.serve.serverSockets(f.dbAddr); err == nil {
				peak = max(peak, n)
			}
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int {
		close(done)
		return <-result
	}
}
