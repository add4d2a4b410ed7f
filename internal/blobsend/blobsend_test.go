package blobsend

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestPeerIsLocal(t *testing.T) {
	tests := []struct {
		remote string
		local  net.Addr
		want   bool
	}{
		{"127.0.0.1:5000", nil, true},
		{"127.8.9.10:5000", nil, true},
		{"[::1]:5000", nil, true},
		{"10.0.0.7:5000", &net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 443}, true},
		{"10.0.0.8:5000", &net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 443}, false},
		{"[2001:db8::1]:5000", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}, true},
		{"192.0.2.1:5000", nil, false},
		{"not-an-address", nil, false},
		{"example.com:80", nil, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		if tt.local != nil {
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tt.local))
		}
		if got := PeerIsLocal(r); got != tt.want {
			t.Errorf("PeerIsLocal(remote %s, local %v) = %v, want %v", tt.remote, tt.local, got, tt.want)
		}
	}
}

func TestWriterChoosesMappingOnlyForLocalPlainHTTP1(t *testing.T) {
	rec := httptest.NewRecorder()
	local := httptest.NewRequest(http.MethodGet, "/", nil)
	local.RemoteAddr = "127.0.0.1:1234"
	if _, ok := Writer(rec, local).(*localWriter); ok != mappedSendSupported {
		t.Errorf("loopback HTTP/1.1: mapped writer %v, want %v", ok, mappedSendSupported)
	}
	remote := local.Clone(context.Background())
	remote.RemoteAddr = "192.0.2.1:1234"
	tls := httptest.NewRequest(http.MethodGet, "https://registry.example/", nil)
	tls.RemoteAddr = "127.0.0.1:1234"
	h2 := local.Clone(context.Background())
	h2.ProtoMajor, h2.ProtoMinor = 2, 0
	for name, r := range map[string]*http.Request{"remote peer": remote, "TLS": tls, "HTTP/2": h2} {
		if _, ok := Writer(rec, r).(*streamWriter); !ok {
			t.Errorf("%s: want the stream writer (files as the response writer sends them)", name)
		}
	}
}

// readerFromRecorder is a response writer with its own ReadFrom, as
// net/http's is (sendfile): it records what reached it.
type readerFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom int
}

func (w *readerFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	w.readFrom++
	return io.Copy(w.ResponseRecorder, src)
}

// TestStreamWriter: a file goes to the response writer's own ReadFrom
// (sendfile in net/http), anything else is copied in full buffers.
func TestStreamWriter(t *testing.T) {
	path, data := writeFile(t, 3*copyBufferSize+17)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := &readerFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	remote := httptest.NewRequest(http.MethodGet, "/", nil)
	remote.RemoteAddr = "192.0.2.1:1234"
	w := Writer(rec, remote).(io.ReaderFrom)
	if n, err := w.ReadFrom(io.LimitReader(f, 1000)); err != nil || n != 1000 || rec.readFrom != 1 {
		t.Fatalf("file: sent %d, %v; response writer's ReadFrom called %d times, want once", n, err, rec.readFrom)
	}

	// Not a file: a reader that returns a few bytes at a time, as a
	// socket does; the writes must still be whole buffers.
	rec2 := &writeRecorder{}
	w2 := Writer(rec2, remote).(io.ReaderFrom)
	n, err := w2.ReadFrom(iotest.OneByteReader(bytes.NewReader(data)))
	if err != nil || n != int64(len(data)) || !bytes.Equal(rec2.buf.Bytes(), data) {
		t.Fatalf("stream: sent %d of %d, %v, or the bytes differ", n, len(data), err)
	}
	want := []int{copyBufferSize, copyBufferSize, copyBufferSize, 17}
	if !slices.Equal(rec2.writes, want) {
		t.Errorf("stream: writes of %v, want %v", rec2.writes, want)
	}

	// A read error ends the copy with that error.
	boom := errors.New("boom")
	if _, err := Writer(&writeRecorder{}, remote).(io.ReaderFrom).ReadFrom(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("read error: got %v, want %v", err, boom)
	}
}

// writeRecorder is a response writer without ReadFrom that records the
// size of each write.
type writeRecorder struct {
	buf    bytes.Buffer
	writes []int
}

func (w *writeRecorder) Header() http.Header { return http.Header{} }
func (w *writeRecorder) WriteHeader(int)     {}
func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.buf.Write(p)
}

// smallWindows makes the mapping windows and writes small, so that a
// modest file crosses many windows at unaligned offsets.
func smallWindows(t *testing.T) {
	t.Helper()
	w, s := mapWindow, writeSize
	mapWindow, writeSize = 64<<10, 20000
	t.Cleanup(func() { mapWindow, writeSize = w, s })
}

func writeFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// TestServeContentOverLoopback serves a file as the registry does and
// checks every kind of request against the file's bytes.
func TestServeContentOverLoopback(t *testing.T) {
	if !mappedSendSupported {
		t.Skip("memory-mapped sending is not built for this platform")
	}
	smallWindows(t)
	path, data := writeFile(t, 300_001)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		bw := Writer(w, r)
		if _, ok := bw.(*localWriter); !ok {
			t.Errorf("request from %s did not get the mapped writer", r.RemoteAddr)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(bw, r, "", time.Time{}, f)
	}))
	defer srv.Close()

	tests := []struct {
		rangeHeader string
		status      int
		want        []byte
	}{
		{"", http.StatusOK, data},
		{"bytes=0-0", http.StatusPartialContent, data[:1]},
		{"bytes=4095-70000", http.StatusPartialContent, data[4095:70001]},
		{"bytes=65535-65537", http.StatusPartialContent, data[65535:65538]},
		{"bytes=131071-", http.StatusPartialContent, data[131071:]},
		{"bytes=-10", http.StatusPartialContent, data[len(data)-10:]},
		{"bytes=299999-400000", http.StatusPartialContent, data[299999:]},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if tt.rangeHeader != "" {
			req.Header.Set("Range", tt.rangeHeader)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("Range %q: %v", tt.rangeHeader, err)
		}
		if resp.StatusCode != tt.status {
			t.Errorf("Range %q: status %d, want %d", tt.rangeHeader, resp.StatusCode, tt.status)
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("Range %q: got %d bytes, want %d, or they differ", tt.rangeHeader, len(got), len(tt.want))
		}
	}

	// Two ranges make ServeContent write a multipart body from a pipe:
	// that goes through the plain copy.
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Range", "bytes=0-9,100000-100009")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
		t.Fatalf("two ranges: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, part := range [][]byte{data[:10], data[100000:100010]} {
		if !bytes.Contains(body, part) {
			t.Errorf("two ranges: body lacks a part")
		}
	}
}

// recordingWriter collects what sendMapped writes and the size of each
// write.
type recordingWriter struct {
	bytes.Buffer
	writes []int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.Buffer.Write(p)
}

func TestSendMapped(t *testing.T) {
	if !mappedSendSupported {
		t.Skip("memory-mapped sending is not built for this platform")
	}
	smallWindows(t)
	path, data := writeFile(t, 200_000)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct{ off, n int64 }{
		{0, 200_000}, {1, 199_999}, {4096, 65536}, {65535, 2}, {131072, 68928}, {199_999, 1}, {12345, 100_000},
	} {
		var w recordingWriter
		sent, err := sendMapped(&w, f, tt.off, tt.n)
		if err != nil {
			t.Fatalf("sendMapped(%d, %d): %v", tt.off, tt.n, err)
		}
		if sent != tt.n || !bytes.Equal(w.Bytes(), data[tt.off:tt.off+tt.n]) {
			t.Errorf("sendMapped(%d, %d): sent %d, bytes equal %v", tt.off, tt.n, sent, bytes.Equal(w.Bytes(), data[tt.off:tt.off+tt.n]))
		}
		for _, k := range w.writes {
			if int64(k) > writeSize {
				t.Errorf("sendMapped(%d, %d): a write of %d bytes, more than %d", tt.off, tt.n, k, writeSize)
			}
		}
	}
}

// faultingWriter truncates the file under the mapping and then reads the
// mapping in user space, as a buffered writer copying it would.
type faultingWriter struct {
	f    *os.File
	sink []byte
}

func (w *faultingWriter) Write(p []byte) (int, error) {
	if err := w.f.Truncate(0); err != nil {
		return 0, err
	}
	w.sink = append(w.sink[:0], p...)
	return len(p), nil
}

// TestSendMappedFaultIsAnError checks that touching a mapping whose pages
// are gone fails the send instead of crashing the server.
func TestSendMappedFaultIsAnError(t *testing.T) {
	if !mappedSendSupported {
		t.Skip("memory-mapped sending is not built for this platform")
	}
	smallWindows(t)
	path, _ := writeFile(t, 200_000)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sent, err := sendMapped(&faultingWriter{f: f}, f, 0, 200_000)
	if err == nil {
		t.Fatalf("sendMapped over a truncated file: sent %d, no error", sent)
	}
	if !strings.Contains(err.Error(), "read mapped blob file") {
		t.Errorf("error %q does not say what failed", err)
	}
}
