package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// distVersion is the CNCF Distribution the pull through cache tests use as
// their upstream (as scripts/bench does).
const distModule = "github.com/distribution/distribution/v3/cmd/registry@v3.1.2"

// findDistribution looks for Distribution's registry on PATH and in Go's
// bin directory, and installs it there with go install if it is in
// neither.
func findDistribution(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("registry"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	gobin, gopath, _ := strings.Cut(string(out), "\n")
	dir := strings.TrimSpace(gobin)
	if dir == "" {
		dir = filepath.Join(filepath.SplitList(strings.TrimSpace(gopath))[0], "bin")
	}
	bin := filepath.Join(dir, "registry")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("installing %s", distModule)
	install := exec.Command("go", "install", distModule)
	install.Dir = os.TempDir()
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", distModule, err, out)
	}
	return bin
}

// distUpstream is a CNCF Distribution registry on loopback behind a
// counting reverse proxy: the upstream of a pull through cache rule, whose
// traffic a test can count and cut.
type distUpstream struct {
	t *testing.T
	// Direct is Distribution's own address (host:port), for pushing test
	// images past the proxy; URL is the proxy's http:// URL, the rule's
	// upstream.
	Direct string
	URL    string
	Host   string

	mu     sync.Mutex
	counts map[string]int // "manifest", "blob", "other"
	down   bool
	srv    *http.Server
	cmd    *exec.Cmd
}

// startDistribution runs Distribution on a free port with htpasswd Basic
// auth from the htpasswd file's line (empty: anonymous), and a counting
// proxy in front of it.
func startDistribution(t *testing.T, htpasswd string) *distUpstream {
	t.Helper()
	bin := findDistribution(t)
	dir := t.TempDir()
	port := freeTCPPort(t)
	auth := ""
	if htpasswd != "" {
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(htpasswd+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
  secret: berth-e2e-local-only
%s`, filepath.Join(dir, "data"), port, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	logf, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	u := &distUpstream{t: t, Direct: fmt.Sprintf("127.0.0.1:%d", port), counts: map[string]int{}, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + u.Direct + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("Distribution did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	target, _ := url.Parse("http://" + u.Direct)
	proxy := httputil.NewSingleHostReverseProxy(target)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = l.Addr().String()
	u.URL = "http://" + u.Host
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		down := u.down
		kind := "other"
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			kind = "manifest"
		case strings.Contains(r.URL.Path, "/blobs/"):
			kind = "blob"
		}
		if !down {
			u.counts[kind]++
		}
		u.mu.Unlock()
		if down {
			// As an upstream that went away: the connection is cut.
			panic(http.ErrAbortHandler)
		}
		proxy.ServeHTTP(w, r)
	})}
	go u.srv.Serve(l)
	t.Cleanup(func() { u.srv.Close() })
	return u
}

// Counts returns the requests the upstream received so far, by kind.
func (u *distUpstream) Counts() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]int{}
	for k, v := range u.counts {
		out[k] = v
	}
	return out
}

// SetDown makes the upstream cut every connection (true) or serve again.
func (u *distUpstream) SetDown(down bool) {
	u.mu.Lock()
	u.down = down
	u.mu.Unlock()
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
