package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is a private MariaDB server started by one test, for what the
// shared test server cannot be asked to do: other server options (binary
// logging), SET GLOBAL. Root has no password; it listens on loopback only.
type Server struct {
	// Addr is its 127.0.0.1:port.
	Addr string
}

// StartServer installs a fresh MariaDB data directory, starts mariadbd on
// it with args added to its command line (e.g. "--log-bin"), waits until it
// answers, and stops it and removes its files when the test ends. It takes
// a few seconds. It never skips: without MariaDB's server programs, the
// test fails and says how to install them.
func StartServer(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin := findProgram("mariadbd", "/usr/sbin/mariadbd")
	install := findProgram("mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db")
	if bin == "" || install == "" {
		tb.Fatalf("this test starts a private MariaDB server and needs mariadbd and mariadb-install-db, which are not installed: " +
			"install them with `apt-get install mariadb-server` (the service need not run)")
	}
	dir, err := os.MkdirTemp("", "titular-mariadb-") // short: the socket path has a length limit
	if err != nil {
		tb.Fatal(err)
	}
	keep := false
	tb.Cleanup(func() {
		if keep {
			tb.Logf("kept the private MariaDB's files in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	data := filepath.Join(dir, "data")
	runAs := "--user=" + currentUser(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, install, "--no-defaults", "--datadir="+data, //nolint:gosec // G204: the program is MariaDB's, found on this machine
		"--auth-root-authentication-method=normal", "--skip-test-db", runAs).CombinedOutput()
	if err != nil {
		keep = true
		tb.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	port := freePort(tb)
	logFile := filepath.Join(dir, "error.log")
	cmd := exec.Command(bin, append([]string{"--no-defaults", "--datadir=" + data, //nolint:gosec // G204: the program is MariaDB's; args come from the test
		"--socket=" + filepath.Join(dir, "sock"), "--port=" + strconv.Itoa(port), "--bind-address=127.0.0.1",
		"--skip-name-resolve", runAs, "--pid-file=" + filepath.Join(dir, "pid"), "--log-error=" + logFile,
		"--innodb-buffer-pool-size=64M"}, args...)...)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start mariadbd: %v", err)
	}
	// exited is closed once mariadbd has exited, with waitErr set.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	root, err := sql.Open("mysql", s.DSN("root", "", ""))
	if err != nil {
		tb.Fatal(err)
	}
	defer root.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, pcancel := context.WithTimeout(context.Background(), time.Second)
		err = root.PingContext(pctx)
		pcancel()
		if err == nil {
			return s
		}
		select {
		case <-exited:
			keep = true
			tb.Fatalf("mariadbd exited (%v) before it answered; its log:\n%s", waitErr, tail(logFile))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			keep = true
			tb.Fatalf("mariadbd did not answer within 30 s (%v); its log:\n%s", err, tail(logFile))
		}
	}
}

// DSN is a DSN for user on the server, on database (none when empty), with
// the options titular needs.
func (s *Server) DSN(user, password, database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = user, password
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", s.Addr, database
	cfg.ParseTime, cfg.Loc = true, time.UTC
	return cfg.FormatDSN()
}

// Open opens a pool on database as root, closed when the test ends.
func (s *Server) Open(tb testing.TB, database string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", s.DSN("root", "", database))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func findProgram(name string, paths ...string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// currentUser is who mariadbd runs as: the test's own user (it refuses
// root unless told so).
func currentUser(tb testing.TB) string {
	u, err := user.Current()
	if err != nil {
		tb.Fatalf("who runs the test: %v", err)
	}
	return u.Username
}

// freePort is a loopback port nothing listens on right now.
func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		tb.Fatalf("unexpected listener address %v", l.Addr())
	}
	return addr.Port
}

// tail is the end of a log file, for a failure message.
func tail(path string) string {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the test's own log file
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}
