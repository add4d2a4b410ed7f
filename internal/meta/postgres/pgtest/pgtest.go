// Package pgtest gives each test a fresh, empty PostgreSQL database on a real
// server: the one BERTH_TEST_POSTGRES names, or else a throwaway cluster it
// starts once per test binary from the installed PostgreSQL (initdb, pg_ctl)
// and stops when the binary exits.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDatabase(t)
//		...
//	}
//
// Without PostgreSQL a test that asks for a database fails, or is skipped
// under -short, with a message saying how to install it: a missing server
// must not pass for a passing test.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Env names the URL of a server the tests may create databases on, e.g.
// postgres://postgres@127.0.0.1:5432/postgres. When it is set no cluster
// is started.
const Env = "BERTH_TEST_POSTGRES"

// Missing is what a test without PostgreSQL is told.
const Missing = "the PostgreSQL tests need a server: install PostgreSQL (Debian: apt-get install postgresql; " +
	"initdb and pg_ctl are then found in /usr/lib/postgresql/*/bin) or set " + Env +
	" to the URL of a server the tests may create databases on"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	counter atomic.Int64
)

// server is where the databases are made: its admin URL, and the cluster
// this binary started, if it started one.
type server struct {
	admin   string
	admins  *pgxpool.Pool
	cluster *cluster
	// drops are the DROP DATABASEs under way.
	drops sync.WaitGroup
}

// Main runs the tests, then stops the cluster they started, if any, and
// exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop drops what the tests left and stops the cluster they started, if
// any: for a TestMain that does more than Main.
func Stop() {
	if srv != nil {
		srv.drops.Wait()
		srv.admins.Close()
		if srv.cluster != nil {
			if err := srv.cluster.stop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}
		srv = nil
	}
}

// Require skips t under -short, and fails it otherwise, unless there is a
// server to make databases on; it starts the cluster when it is the
// first to ask. A test that makes its databases in subtests calls it
// first, to be told once.
func Require(t testing.TB) {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if errors.Is(srvErr, errNoPostgres) {
		if testing.Short() {
			t.Skip(Missing)
		}
		t.Fatal(Missing)
	}
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
}

// NewDatabase creates an empty database for t and returns its URL; the
// database is dropped when t ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	Require(t)
	name := fmt.Sprintf("berth_test_%d_%d", os.Getpid(), counter.Add(1))
	ctx := context.Background()
	if _, err := srv.admins.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		// In the background: dropping takes as long as creating, and
		// nothing waits for it but Main.
		srv.drops.Go(func() {
			// FORCE: a test that failed may have left connections open.
			if _, err := srv.admins.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: drop database %s: %v\n", name, err)
			}
		})
	})
	u, err := withDatabase(srv.admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// withDatabase returns the URL u with its database replaced by name.
func withDatabase(u, name string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL", Env)
	}
	parsed.Path = "/" + name
	return parsed.String(), nil
}

var errNoPostgres = errors.New("no PostgreSQL")

func start() (*server, error) {
	s := &server{admin: os.Getenv(Env)}
	if s.admin != "" {
		if _, err := withDatabase(s.admin, "postgres"); err != nil {
			return nil, err
		}
	} else {
		c, err := startCluster()
		if err != nil {
			return nil, err
		}
		s.cluster, s.admin = c, c.url
	}
	pool, err := pgxpool.New(context.Background(), s.admin)
	if err == nil {
		if err = pool.Ping(context.Background()); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		if s.cluster != nil {
			s.cluster.stop()
		}
		// The error names the server; the URL may hold a password.
		return nil, fmt.Errorf("connect to the test server: %w", err)
	}
	s.admins = pool
	return s, nil
}

// cluster is a PostgreSQL cluster in a temporary directory, for this test
// binary alone.
type cluster struct {
	dir string
	url string
	// reaper stops the cluster and removes dir once its standard input
	// closes: when stop closes it, or when this process dies however it
	// dies (a test timeout's panic, SIGKILL), so that no server outlives
	// the tests that started it.
	reaper     *exec.Cmd
	reaperPipe io.WriteCloser
	// pgctl runs pg_ctl on the cluster; startArgs start its server again.
	pgctl     []string
	startArgs []string
}

// findBin returns the directory holding initdb and pg_ctl: the newest
// PostgreSQL under /usr/lib/postgresql (Debian's layout, which does not
// put them on PATH), else PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", errNoPostgres
	}
	d := filepath.Dir(initdb)
	if !isExec(filepath.Join(d, "pg_ctl")) {
		return "", errNoPostgres
	}
	return d, nil
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func startCluster() (*cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "berth-pgtest-")
	if err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root: as root, run it as postgres.
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and there is no user postgres to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and runuser is missing to run PostgreSQL as postgres: %w", err)
		}
		asUser = []string{runuser, "-u", "postgres", "--"}
	}
	c := &cluster{dir: dir}
	data := filepath.Join(dir, "data")
	pgctl := slices.Concat(asUser, []string{filepath.Join(bin, "pg_ctl"), "-D", data})

	// The reaper starts before the cluster, so that nothing started is
	// ever left without one.
	c.reaper = exec.Command("sh", "-c", `cat >/dev/null; "$@" -m immediate stop >/dev/null 2>&1; rm -rf -- "$BERTH_PGTEST_DIR"`, "sh")
	c.reaper.Args = append(c.reaper.Args, pgctl...)
	c.reaper.Env = append(os.Environ(), "BERTH_PGTEST_DIR="+dir)
	// Its own process group: a ^C to go test must not kill it first.
	c.reaper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.reaperPipe, err = c.reaper.StdinPipe(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.reaper.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	// trust: the server listens on loopback and a private socket only,
	// for the lifetime of the tests. --no-sync and fsync=off: a crash of
	// the machine loses a cluster nobody needs. The default collation is
	// ICU's en-US where the server has it (PostgreSQL 15 and later): it
	// sorts "a" before "B", so that text the store forgets to compare
	// bytewise shows in the tests.
	initdb := slices.Concat(asUser, []string{filepath.Join(bin, "initdb"),
		"-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"})
	if _, err := run(append(initdb, "--locale-provider=icu", "--icu-locale=en-US")...); err != nil {
		os.RemoveAll(data)
		if out, err := run(initdb...); err != nil {
			c.stop()
			return nil, fmt.Errorf("initdb: %v\n%s", err, out)
		}
	}
	// A free port may be taken between finding it and the server binding
	// it: try a few.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			c.stop()
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"+
			" -c full_page_writes=off -c max_connections=300", port, dir)
		start := slices.Concat(pgctl, []string{"-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"})
		out, err := run(start...)
		if err == nil {
			c.pgctl, c.startArgs = pgctl, start
			c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			return c, nil
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			c.stop()
			return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		}
	}
}

func run(args ...string) ([]byte, error) {
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl's server runs on: it must not hold our pipes open.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stop has the reaper stop the cluster and remove its directory, and waits
// for it.
func (c *cluster) stop() error {
	c.reaperPipe.Close()
	if err := c.reaper.Wait(); err != nil {
		return fmt.Errorf("stop the cluster in %s: %w", c.dir, err)
	}
	return nil
}

// Cluster is a throwaway cluster of one test's own, for a test that stops
// and starts its database server (an outage) without disturbing the
// others, which share the package's cluster.
type Cluster struct {
	c *cluster
}

// NewCluster starts a cluster for t, stopped and removed when t ends. It
// skips t under -short, and fails it otherwise, when PostgreSQL is not
// installed.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := startCluster()
	if errors.Is(err, errNoPostgres) {
		if testing.Short() {
			t.Skip(Missing)
		}
		t.Fatal(Missing)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return &Cluster{c}
}

// NewDatabase creates an empty database on the cluster and returns its URL.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("berth_test_%d", counter.Add(1))
	conn, err := pgx.Connect(t.Context(), c.c.url)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	u, err := withDatabase(c.c.url, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// StopServer stops the cluster's server (a fast shutdown: its clients'
// connections are cut, what committed stays), as an outage would.
func (c *Cluster) StopServer(t testing.TB) {
	t.Helper()
	if out, err := run(slices.Concat(c.c.pgctl, []string{"-m", "fast", "-w", "stop"})...); err != nil {
		t.Fatalf("pgtest: stop the server: %v\n%s", err, out)
	}
}

// StartServer starts the cluster's server again, on the same port.
func (c *Cluster) StartServer(t testing.TB) {
	t.Helper()
	if out, err := run(c.c.startArgs...); err != nil {
		t.Fatalf("pgtest: start the server again: %v\n%s", err, out)
	}
}
