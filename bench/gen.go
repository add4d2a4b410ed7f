package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
)

// The data generator: a stream is a sequence of 1 MiB blocks, each a copy of
// one fixed pseudo-random block with its first 16 bytes replaced by the
// stream's seed and the block's index. It is deterministic, costs a memcpy
// per block, and every (seed, size) pair has its own digest, so no registry
// can recognise a blob it already holds. Nothing is ever held in memory
// beyond one block per reader.

const genBlock = 1 << 20

var (
	baseOnce  sync.Once
	baseBlock []byte
)

func base() []byte {
	baseOnce.Do(func() {
		baseBlock = make([]byte, genBlock)
		var seed [32]byte
		copy(seed[:], "berth-bench deterministic data!!")
		rand.NewChaCha8(seed).Read(baseBlock)
	})
	return baseBlock
}

// genReader streams size bytes of stream seed, starting at offset off.
type genReader struct {
	seed  uint64
	off   int64 // position in the stream
	end   int64 // stream position where this reader stops
	block []byte
	blkNo int64 // index of the block held in block, -1 for none
}

func newGen(seed uint64, off, n int64) *genReader {
	return &genReader{seed: seed, off: off, end: off + n, blkNo: -1}
}

func (g *genReader) fill(idx int64) {
	if g.block == nil {
		g.block = make([]byte, genBlock)
		copy(g.block, base())
	}
	if g.blkNo == idx {
		return
	}
	binary.LittleEndian.PutUint64(g.block[0:8], g.seed)
	binary.LittleEndian.PutUint64(g.block[8:16], uint64(idx))
	g.blkNo = idx
}

// next returns the bytes from the current position to the end of its
// block (or of the reader), without copying.
func (g *genReader) next() []byte {
	if g.off >= g.end {
		return nil
	}
	idx := g.off / genBlock
	g.fill(idx)
	in := g.off % genBlock
	n := int64(genBlock) - in
	if rem := g.end - g.off; rem < n {
		n = rem
	}
	return g.block[in : in+n]
}

func (g *genReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		b := g.next()
		if b == nil {
			break
		}
		n := copy(p, b)
		g.off += int64(n)
		p = p[n:]
		total += n
	}
	if total == 0 && g.off >= g.end {
		return 0, io.EOF
	}
	return total, nil
}

// WriteTo hands whole blocks to w, which spares io.Copy its buffer.
func (g *genReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b := g.next()
		if b == nil {
			return total, nil
		}
		n, err := w.Write(b)
		g.off += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

// genDigest is the sha256 digest of size bytes of stream seed.
func genDigest(seed uint64, size int64) string {
	h := sha256.New()
	if _, err := newGen(seed, 0, size).WriteTo(h); err != nil {
		panic(err)
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}

func bytesDigest(b []byte) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
}
