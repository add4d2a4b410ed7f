package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The machine's own limits, measured between the registries' turns.

// limitBuffer is filled once from the generator.
func limitBuffer(size int64) []byte {
	buf := make([]byte, size)
	if _, err := io.ReadFull(newGen(0xfeed, 0, size), buf); err != nil {
		panic(err)
	}
	return buf
}

func mbps(bytes int64, d time.Duration) float64 {
	return float64(bytes) / 1e6 / d.Seconds()
}

// sha256Throughput hashes buf with crypto/sha256.
func sha256Throughput(buf []byte) float64 {
	start := time.Now()
	sha256.Sum256(buf)
	return mbps(int64(len(buf)), time.Since(start))
}

// loopbackThroughput sends buf times rounds over a loopback TCP connection
// to an io.Copy into io.Discard.
func loopbackThroughput(buf []byte, rounds int) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	var got atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		n, err := io.Copy(io.Discard, c)
		got.Store(n)
		done <- err
	}()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	for range rounds {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			return 0, err
		}
	}
	c.Close()
	if err := <-done; err != nil {
		return 0, err
	}
	d := time.Since(start)
	want := int64(len(buf)) * int64(rounds)
	if got.Load() != want {
		return 0, fmt.Errorf("loopback: received %d of %d bytes", got.Load(), want)
	}
	return mbps(want, d), nil
}

// diskThroughput writes buf to a new file in dir in 1 MiB writes and
// fsyncs it; the time includes the fsync.
func diskThroughput(dir string, buf []byte) (float64, error) {
	syscall.Sync() // leave no earlier writes to be flushed in our time
	path := filepath.Join(dir, "bench-fsync.tmp")
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	start := time.Now()
	for off := 0; off < len(buf); off += 1 << 20 {
		end := min(off+1<<20, len(buf))
		if _, err := f.Write(buf[off:end]); err != nil {
			f.Close()
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	d := time.Since(start)
	if err := f.Close(); err != nil {
		return 0, err
	}
	return mbps(int64(len(buf)), d), nil
}

// machine describes the host for the report's header.
type machine struct {
	CPUs     int    `json:"nproc"`
	CPUModel string `json:"cpuModel,omitempty"`
	MemTotal string `json:"memory"`
	OS       string `json:"os"`
	Go       string `json:"goVersion"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if kb := procField("/proc/meminfo", "MemTotal"); kb > 0 {
		m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	return m
}

// procField reads a "Name:   123 kB" line of a /proc file, in kB.
func procField(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return parseProcField(b, name)
}

func parseProcField(b []byte, name string) int64 {
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return -1
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}

// rssSampler reads a process's VmRSS every interval and keeps the largest.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	peak int64 // kB
	n    int
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{}), peak: -1}
	if pid <= 0 {
		close(s.done)
		return s
	}
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if kb := procField(path, "VmRSS"); kb > s.peak {
				s.peak = kb
			}
			s.n++
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak in MiB (-1 when not measured).
func (s *rssSampler) Stop() float64 {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	if s.peak < 0 {
		return -1
	}
	return float64(s.peak) / 1024
}

// dropCaches empties the page cache, or says why it cannot.
func dropCaches() error {
	syscall.Sync()
	f, err := os.OpenFile("/proc/sys/vm/drop_caches", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("3\n")
	return err
}

// cpuTimes is the machine's aggregate "cpu" line of /proc/stat.
type cpuTimes struct{ total, idle, steal uint64 }

func readCPUTimes() (cpuTimes, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		if i >= 8 { // guest times are already counted in user and nice
			break
		}
		t.total += n
		switch i {
		case 3, 4: // idle, iowait
			t.idle += n
		case 7:
			t.steal += n
		}
	}
	return t, true
}

// loadAvg1 is the 1-minute load average.
func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// How a file goes to a socket, for fileToSocketThroughput.
type fileSend int

const (
	sendSendfile  fileSend = iota // the kernel sends the page-cache pages (zero-copy)
	sendReadWrite                 // read into a 1 MiB buffer, write it
	sendMapped                    // write from an 8 MiB mapping, 1 MiB a write (Berth for local peers)
)

// fileToSocketThroughput sends a warm file of buf's bytes rounds times over
// a loopback TCP connection to a reader that reads 256 KiB at a time, as
// the benchmark's HTTP client does, the way how says.
func fileToSocketThroughput(dir string, buf []byte, rounds int, how fileSend) (float64, error) {
	path := filepath.Join(dir, "bench-sendfile.tmp")
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		return 0, err
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	var got atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		var n countWriter
		_, err = io.CopyBuffer(&n, c, make([]byte, 256<<10))
		got.Store(int64(n))
		done <- err
	}()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		return 0, err
	}
	tc := c.(*net.TCPConn)
	copyBuf := make([]byte, 1<<20)
	start := time.Now()
	for range rounds {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			c.Close()
			return 0, err
		}
		switch how {
		case sendSendfile:
			_, err = tc.ReadFrom(f) // *os.File: sendfile
		case sendReadWrite:
			_, err = io.CopyBuffer(struct{ io.Writer }{tc}, struct{ io.Reader }{f}, copyBuf)
		case sendMapped:
			err = writeMapped(tc, f, int64(len(buf)))
		}
		if err != nil {
			c.Close()
			return 0, err
		}
	}
	c.Close()
	if err := <-done; err != nil {
		return 0, err
	}
	d := time.Since(start)
	want := int64(len(buf)) * int64(rounds)
	if got.Load() != want {
		return 0, fmt.Errorf("file to socket: received %d of %d bytes", got.Load(), want)
	}
	return mbps(want, d), nil
}

// writeMapped writes the file's size bytes to w from a window of 8 MiB
// mapped at a time, 1 MiB a write.
func writeMapped(w io.Writer, f *os.File, size int64) error {
	const window, piece = 8 << 20, 1 << 20
	for off := int64(0); off < size; off += window {
		n := min(size-off, window)
		m, err := syscall.Mmap(int(f.Fd()), off, int(n), syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
		if err != nil {
			return fmt.Errorf("map the file: %w", err)
		}
		for o := 0; o < len(m); o += piece {
			if _, err := w.Write(m[o:min(o+piece, len(m))]); err != nil {
				syscall.Munmap(m)
				return err
			}
		}
		if err := syscall.Munmap(m); err != nil {
			return err
		}
	}
	return nil
}
