package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestDirectWriter writes appends of several sizes, in writes of several
// sizes, at aligned offsets, and checks the file and the counts.
func TestDirectWriter(t *testing.T) {
	data := make([]byte, 3*directChunk+5000)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	for _, lend := range []bool{false, true} {
		t.Run(map[bool]string{false: "Write", true: "LendBuffer"}[lend], func(t *testing.T) {
			testDirectWriter(t, data, lend)
		})
	}
}

func testDirectWriter(t *testing.T, data []byte, lend bool) {
	for _, tc := range []struct {
		name   string
		start  int64 // aligned
		size   int
		writes []int
	}{
		{"empty", 0, 0, []int{1}},
		{"less than a block", 0, 100, []int{7}},
		{"one block exactly", 0, directAlign, []int{1000}},
		{"a chunk exactly", 0, directChunk, []int{directChunk}},
		{"chunks and a tail", 0, 3*directChunk + 5000, []int{65536, 333, 1 << 20}},
		{"at an aligned offset", 8 * directAlign, 2*directChunk + 1, []int{4095, 4097}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "upload")
			prefix := bytes.Repeat([]byte{0xAB}, int(tc.start))
			if err := os.WriteFile(path, prefix, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			df := openDirect(path)
			if df == nil {
				t.Skip("no direct I/O here (the page-cache path is covered by TestConformancePageCacheOnly)")
			}
			defer df.Close()
			w := newDirectWriter(df, f, tc.start)
			src := data[:tc.size]
			for i := 0; len(src) > 0; i++ {
				k := min(tc.writes[i%len(tc.writes)], len(src))
				if lend {
					space := w.LendBuffer()
					if len(space) == 0 {
						t.Fatal("LendBuffer lent no space")
					}
					k = copy(space, src[:k])
					if err := w.Filled(k); err != nil {
						t.Fatalf("Filled(%d): %v", k, err)
					}
				} else if n, err := w.Write(src[:k]); n != k || err != nil {
					t.Fatalf("Write(%d) = %d, %v", k, n, err)
				}
				src = src[k:]
			}
			n, err := w.finish()
			if err != nil || n != int64(tc.size) {
				t.Fatalf("finish = %d, %v; want %d", n, err, tc.size)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := append(prefix, data[:tc.size]...)
			if !bytes.Equal(got, want) {
				t.Fatalf("file holds %d bytes, want %d (or the bytes differ)", len(got), len(want))
			}
		})
	}
}

// TestDirectWriterFilledTooMuch: claiming more than was lent is refused.
func TestDirectWriterFilledTooMuch(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "upload"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := newDirectWriter(f, f, 0)
	defer w.finish()
	if err := w.Filled(len(w.LendBuffer()) + 1); err == nil {
		t.Error("Filled past the lent space: no error")
	}
	if err := w.Filled(-1); err == nil {
		t.Error("Filled(-1): no error")
	}
}

// TestDirectWriterFailure: a failing write reports only what reached the
// file.
func TestDirectWriterFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upload")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(path) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	w := newDirectWriter(ro, ro, 0)
	// The chunk is written in the background: its failure shows at a
	// later Write or at finish.
	w.Write(make([]byte, directChunk+10))
	w.Write(make([]byte, directChunk))
	n, err := w.finish()
	if n != 0 || err == nil || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("finish = %d, %v; want 0 and the write error", n, err)
	}
}
