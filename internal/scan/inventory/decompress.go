package inventory

import (
	"bufio"
	"bytes"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Decompressing is most of an inventory's work (nine tenths of its CPU time
// on gzip'd layers). go-containerregistry's Layer.Uncompressed uses the
// standard library's gzip; klauspost/compress, which Berth already links,
// inflates the same layers in about two thirds of the time. So the walk
// takes each layer's compressed stream from the v1.Layer and undoes the
// compression itself, told, as go-containerregistry tells it, by the first
// bytes rather than the media type, which some tools get wrong.

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// maxZstdWindow bounds the memory a zstd layer can make the decoder take:
// images are compressed with windows of 8 MiB or less, and zstd --long
// uses 128 MiB.
const maxZstdWindow = 128 << 20

// uncompressed opens a layer's tar stream: gzip'd, zstd'd or plain.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 64<<10)
	head, err := br.Peek(len(zstdMagic))
	if err != nil && err != io.EOF {
		rc.Close()
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, err
		}
		return &closer{Reader: zr, close: func() { zr.Close(); rc.Close() }}, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			rc.Close()
			return nil, err
		}
		return &closer{Reader: zr, close: func() { zr.Close(); rc.Close() }}, nil
	default:
		return &closer{Reader: br, close: func() { rc.Close() }}, nil
	}
}

type closer struct {
	io.Reader
	close func()
}

func (c *closer) Close() error {
	c.close()
	return nil
}
