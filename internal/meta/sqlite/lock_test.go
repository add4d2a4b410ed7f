//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlite

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestOpenExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(path)
	if err != nil {
		t.Fatalf("a second Open: %v", err)
	}
	if _, err := OpenExclusive(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("OpenExclusive while open: error %v, want ErrInUse", err)
	}
	a.Close()
	if _, err := OpenExclusive(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("OpenExclusive while one Store is still open: error %v, want ErrInUse", err)
	}
	b.Close()

	x, err := OpenExclusive(path)
	if err != nil {
		t.Fatalf("OpenExclusive once every Store closed: %v", err)
	}
	if _, err := Open(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("Open while held exclusively: error %v, want ErrInUse", err)
	}
	if _, err := OpenExclusive(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("OpenExclusive twice: error %v, want ErrInUse", err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(path)
	if err != nil {
		t.Fatalf("Open after the exclusive Store closed: %v", err)
	}
	c.Close()
}

const lockChildEnv = "BERTH_SQLITE_LOCK_CHILD"

// TestOpenExclusiveOtherProcess: a Store open in another process keeps
// OpenExclusive out, and stops keeping it out when that process is killed
// without closing anything.
func TestOpenExclusiveOtherProcess(t *testing.T) {
	if path := os.Getenv(lockChildEnv); path != "" {
		s, err := Open(path)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		_ = s
		fmt.Println("open")
		select {} // until killed
	}
	path := filepath.Join(t.TempDir(), "berth.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenExclusiveOtherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "open\n" {
		t.Fatalf("child: %q", line)
	}
	if _, err := OpenExclusive(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("OpenExclusive while another process has it open: error %v, want ErrInUse", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	x, err := OpenExclusive(path)
	if err != nil {
		t.Fatalf("OpenExclusive after the other process died: %v", err)
	}
	x.Close()
}
