package registry

import (
	"crypto/sha256"
	"io"
	"net"
	"os"
	"testing"
)

// BenchmarkHashingReaderWriteTo streams 256 MiB over loopback TCP into a
// file through WriteTo: the path of a monolithic push, without HTTP.
func BenchmarkHashingReaderWriteTo(b *testing.B) {
	const size = 256 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 131)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			for sent := 0; sent < size; sent += len(block) {
				if _, err := c.Write(block); err != nil {
					break
				}
			}
			c.Close()
		}
	}()
	b.SetBytes(size)
	for b.Loop() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.CreateTemp(b.TempDir(), "blob")
		if err != nil {
			b.Fatal(err)
		}
		h := &hashingReader{r: c, h: sha256.New()}
		if n, err := io.Copy(f, h); err != nil || n != size {
			b.Fatalf("copied %d: %v", n, err)
		}
		f.Close()
		c.Close()
		os.Remove(f.Name())
	}
}
