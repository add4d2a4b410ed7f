package s3test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// versitygwPackage is the pinned S3 server the tests start. Its first build
// takes a few minutes; later ones come from Go's build cache, and once
// installed it is reused from Go's bin directory.
const versitygwPackage = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// startVersitygw starts versitygw over a temporary directory on a free
// loopback port and waits until it answers.
func startVersitygw() (*server, error) {
	bin, err := findVersitygw()
	if err != nil {
		return nil, err
	}
	var lastErr error
	// A free port can be taken between choosing it and the server binding
	// it; another one is tried then.
	for range 3 {
		sv, err := runVersitygw(bin)
		if err == nil {
			return sv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func runVersitygw(bin string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "berth-versitygw-")
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	access, secret := "berth"+randomHex(6), randomHex(16)
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", dir)
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(dir)
	}

	// Any HTTP answer (403 to an unsigned request) means it is serving.
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return &server{endpoint: "http://" + addr, accessKey: access, secretKey: secret, region: "us-east-1", stop: stop}, nil
		}
		select {
		case err := <-exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%s exited before serving (%v): %s", bin, err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not answer on %s within a minute: %s", bin, addr, out)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// findVersitygw looks on PATH, then in Go's bin directory, then installs it
// there.
func findVersitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goCmd, err = filepath.Join(root, "bin", "go"), nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("versitygw is not on PATH and there is no go command to install it: %w", err)
	}
	env, err := exec.Command(goCmd, "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	// One line each, the first empty when GOBIN is unset.
	gobin, gopath, _ := strings.Cut(string(env), "\n")
	binDir := strings.TrimSpace(gobin)
	if gopath = strings.TrimSpace(gopath); binDir == "" && gopath != "" {
		binDir = filepath.Join(filepath.SplitList(gopath)[0], "bin")
	}
	if binDir == "" {
		return "", errors.New("go env reports neither GOBIN nor GOPATH")
	}
	bin := filepath.Join(binDir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}

	fmt.Fprintf(os.Stderr, "s3test: installing %s (the first build takes a few minutes)\n", versitygwPackage)
	install := exec.Command(goCmd, "install", versitygwPackage)
	install.Dir = os.TempDir() // outside any module: the pinned version alone decides
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", versitygwPackage, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("go install %s left no %s: %w", versitygwPackage, bin, err)
	}
	return bin, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return "(no output)"
	}
	return s
}
