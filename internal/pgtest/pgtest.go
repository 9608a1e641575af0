// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// postgresql package's initdb and pg_ctl, a cluster in a temporary
// directory, listening on a free loopback port, removed when the test ends.
// initdb and pg_ctl refuse to run as root, so under root they run as the
// unprivileged user the package creates (postgres). Without the binaries,
// tests skip with a message saying what to install.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	// The PostgreSQL driver for database/sql: pgx is the well-kept pure-Go
	// driver (lib/pq is in maintenance mode).
	_ "github.com/jackc/pgx/v5/stdlib"
)

// Server is a running PostgreSQL cluster.
type Server struct {
	// DSN connects to the postgres database as the superuser postgres.
	DSN  string
	port int
	dir  string
	bin  string
	dbs  atomic.Int64
}

// binDir returns the newest /usr/lib/postgresql/<version>/bin holding
// initdb and pg_ctl.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql) to run this test")
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Start starts a server for tb and stops and removes it when tb ends; it
// skips tb when the binaries are missing.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := start()
	if errors.Is(err, errNoBinaries) {
		tb.Skip(err.Error())
	}
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

var errNoBinaries = errors.New("pgtest: no binaries")

func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoBinaries, err)
	}
	// In the system temporary directory itself, not a test's own (private
	// to this user): the postgres user must be able to reach it.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.port = port
	data := filepath.Join(dir, "data")
	if out, err := s.run(cred, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	if out, err := s.run(cred, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ok = true
	return s, nil
}

// credential returns the postgres user's credential when running as root,
// nil otherwise.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run initdb as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (s *Server) run(cred *syscall.Credential, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() {
	if s.port != 0 {
		cred, _ := credential()
		_, _ = s.run(cred, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
		s.port = 0
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// NewDB creates a new empty database and returns its DSN and a pool
// connected to it, closed when tb ends.
func (s *Server) NewDB(tb testing.TB) (string, *sql.DB) {
	tb.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	admin, err := sql.Open("pgx", s.DSN)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	dsn := strings.Replace(s.DSN, "/postgres?", "/"+name+"?", 1)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return dsn, db
}
