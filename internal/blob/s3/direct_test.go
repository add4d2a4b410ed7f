package s3_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/blob/s3/s3test"
)

// failingReader returns its bytes, then an error instead of io.EOF: a
// client that hung up mid-body.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestPutVerified writes blobs straight to their addresses: small (one
// conditional PutObject) and larger than a segment (a multipart upload);
// a refused verification, a failing body and a blob already there.
// Whatever fails leaves nothing at the address and no multipart upload.
func TestPutVerified(t *testing.T) {
	cfg := s3test.NewBucket(t, "berth")
	st := newStore(t, cfg)
	client := s3test.Client(cfg)
	ctx := t.Context()
	refused := errors.New("refused")
	hangUp := errors.New("client hung up")

	tests := []struct {
		name    string
		size    int
		verify  error
		readErr error
		wantErr error
	}{
		{"empty", 0, nil, nil, nil},
		{"small", 1000, nil, nil, nil},
		{"exactly the small buffer", 256 << 10, nil, nil, nil},
		{"within one segment", 5 * mib, nil, nil, nil},
		{"exactly one segment", 8 * mib, nil, nil, nil},
		{"two parts", 8*mib + 300_000, nil, nil, nil},
		{"three parts, last one full", 24 * mib, nil, nil, nil},
		{"small, verification refused", 1000, refused, nil, refused},
		{"two parts, verification refused", 8*mib + 1, refused, nil, refused},
		{"small, body fails", 1000, nil, hangUp, hangUp},
		{"one segment, body fails", 3 * mib, nil, hangUp, hangUp},
		{"one segment, verification refused", 3 * mib, refused, nil, refused},
		{"two parts, body fails", 9 * mib, nil, hangUp, hangUp},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := randBytes(uint64(100+i), tt.size)
			d := digest.FromBytes(data)
			var r io.Reader = bytes.NewReader(data)
			if tt.readErr != nil {
				r = &failingReader{r: r, err: tt.readErr}
			}
			verified := 0
			n, err := st.PutVerified(ctx, d, r, func() error { verified++; return tt.verify })
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("PutVerified: %v, want %v", err, tt.wantErr)
			}
			if tt.readErr == nil && (n != int64(tt.size) || verified != 1) {
				t.Errorf("read %d of %d bytes, verify called %d times, want once", n, tt.size, verified)
			}
			if tt.readErr != nil && verified != 0 {
				t.Errorf("verify called after the body failed")
			}
			if tt.wantErr != nil {
				if _, err := st.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("Stat after a failed put: %v, want not found", err)
				}
			} else {
				rc, size, err := st.Open(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || size != int64(tt.size) || !bytes.Equal(got, data) {
					t.Errorf("read back %d bytes (size %d), %v; want the %d put", len(got), size, err, tt.size)
				}
			}
			mpus, err := client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: &cfg.Bucket})
			if err != nil {
				t.Fatal(err)
			}
			if len(mpus.Uploads) != 0 {
				t.Errorf("%d multipart uploads left behind", len(mpus.Uploads))
			}
		})
	}

	// A blob already there is kept, and putting it again succeeds.
	data := randBytes(7, 9*mib)
	d := digest.FromBytes(data)
	for range 2 {
		if _, err := st.PutVerified(ctx, d, bytes.NewReader(data), func() error { return nil }); err != nil {
			t.Fatalf("put of a blob already there: %v", err)
		}
	}
	if size, err := st.Stat(ctx, d); err != nil || size != int64(len(data)) {
		t.Errorf("Stat: %d, %v", size, err)
	}
}
