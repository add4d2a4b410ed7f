// Package e2e drives a real `berth serve` process with real clients: the OCI
// conformance suite, go-containerregistry, and crash and bad-input tests.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/blob/s3/s3test"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// berthBin is the binary under test, built once by TestMain.
var berthBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	berthBin = filepath.Join(dir, "berth")
	build := exec.Command("go", "build", "-o", berthBin, "../cmd/berth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building berth:", err)
		os.Exit(1)
	}
	code := m.Run()
	s3test.Stop()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// berth is one running `berth serve`.
type berth struct {
	t       *testing.T
	DataDir string
	Args    []string
	// Env is added to the server's environment.
	Env   []string
	URL   string // http://127.0.0.1:port
	Host  string // 127.0.0.1:port
	cmd   *exec.Cmd
	logMu sync.Mutex
	log   strings.Builder
	done  chan struct{}
}

var servingRE = regexp.MustCompile(`url=(https?://(\S+))`)

// startBerth runs berth serve on a fresh port over dataDir ("" for a new
// temporary one) and waits until it serves.
func startBerth(t *testing.T, dataDir string, args ...string) *berth {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	b := &berth{t: t, DataDir: dataDir, Args: args}
	b.start()
	t.Cleanup(func() { b.Stop() })
	return b
}

func (b *berth) start() {
	t := b.t
	t.Helper()
	// A restart listens where the process listened before, so that
	// clients and proxies find it again.
	listen := "127.0.0.1:0"
	if b.Host != "" {
		listen = b.Host
	}
	args := append([]string{"serve", "--listen", listen, "--data", b.DataDir, "--log-level", "info"}, b.Args...)
	cmd := exec.Command(berthBin, args...)
	cmd.Env = append(os.Environ(), "BERTH_ACCESS_KEY_ID="+testAccessKeyID, "BERTH_SECRET_ACCESS_KEY="+testSecretAccessKey)
	cmd.Env = append(cmd.Env, b.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.cmd = cmd
	b.done = make(chan struct{})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			b.logMu.Lock()
			b.log.WriteString(line + "\n")
			b.logMu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "berth is serving") {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		cmd.Wait()
		close(b.done)
	}()
	select {
	case u := <-urlc:
		b.URL = u
		b.Host = strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	case <-b.done:
		t.Fatalf("berth exited before serving:\n%s", b.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("berth did not start serving in time:\n%s", b.Log())
	}
}

// Log is everything the process wrote to stderr so far.
func (b *berth) Log() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.String()
}

// Stop sends SIGTERM and waits for a graceful exit.
func (b *berth) Stop() {
	b.signal(syscall.SIGTERM)
}

// Kill sends SIGKILL: no shutdown, no cleanup.
func (b *berth) Kill() {
	b.signal(syscall.SIGKILL)
}

func (b *berth) signal(sig syscall.Signal) {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(sig)
	select {
	case <-b.done:
	case <-time.After(60 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		b.t.Errorf("berth did not exit after %v", sig)
	}
}

// Restart starts the process again over the same data directory, on the
// same address.
func (b *berth) Restart() {
	b.start()
}

// ExitCode is the exit code after the process ended.
func (b *berth) ExitCode() int {
	<-b.done
	return b.cmd.ProcessState.ExitCode()
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// PID is the process id of the running server.
func (b *berth) PID() int { return b.cmd.Process.Pid }
