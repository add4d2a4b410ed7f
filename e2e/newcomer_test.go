package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A first start that fails after generating the root credentials (here the
// port is taken) still shows them, and the next start names the command
// that shows the same ones again.
func TestFirstStartFailureKeepsRootCredentials(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The context kills a berth that never says what this test waits for.
	serve := func(listen string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, berthBin, "serve", "--listen", listen, "--data", data)
		cmd.Env = withoutRootKeys(os.Environ())
		return cmd
	}

	var stderr bytes.Buffer
	first := serve(taken.Addr().String())
	first.Stderr = &stderr
	if err := first.Run(); err == nil {
		t.Fatal("berth serve on a taken port succeeded")
	}
	kept, err := os.ReadFile(filepath.Join(data, "root-credentials.json"))
	if err != nil {
		t.Fatalf("the failed first start kept no root credentials: %v\n%s", err, stderr.String())
	}
	var root struct{ AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal(kept, &root); err != nil || root.SecretAccessKey == "" {
		t.Fatalf("root-credentials.json: %v\n%s", err, kept)
	}
	out := stderr.String()
	for _, want := range []string{"export AWS_ACCESS_KEY_ID=" + root.AccessKeyID, "export AWS_SECRET_ACCESS_KEY=" + root.SecretAccessKey} {
		if !strings.Contains(out, want) {
			t.Errorf("the failed first start did not print %q:\n%s", want, out)
		}
	}

	// The second start reuses them and says how to see them.
	second := serve("127.0.0.1:0")
	pipe, err := second.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { second.Process.Kill(); second.Wait() }()
	var log bytes.Buffer
	showRE := regexp.MustCompile(`(?m)^\s+(cat \S+)$`)
	buf := make([]byte, 4096)
	var show []string
	for show == nil && ctx.Err() == nil {
		n, err := pipe.Read(buf)
		log.Write(buf[:n])
		if err != nil {
			break
		}
		show = showRE.FindStringSubmatch(log.String())
	}
	if show == nil {
		t.Fatalf("the second start names no command that shows the root credentials:\n%s", log.String())
	}
	if strings.Contains(log.String(), root.SecretAccessKey) {
		t.Errorf("the second start printed the secret again:\n%s", log.String())
	}
	if !strings.Contains(log.String(), root.AccessKeyID) {
		t.Errorf("the second start does not name access key %s:\n%s", root.AccessKeyID, log.String())
	}
	shown, err := exec.CommandContext(ctx, "sh", "-c", show[1]).Output()
	if err != nil {
		t.Fatalf("%s: %v", show[1], err)
	}
	if !strings.Contains(string(shown), root.SecretAccessKey) {
		t.Errorf("%s does not show the first start's secret:\n%s", show[1], shown)
	}
}

// withoutRootKeys drops root keys from the environment, so that berth
// generates its own.
func withoutRootKeys(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BERTH_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "BERTH_SECRET_ACCESS_KEY=") {
			out = append(out, kv)
		}
	}
	return out
}
