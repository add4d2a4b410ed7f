package registry

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// blockingReader sends its first byte, says so, then waits for release.
type blockingReader struct {
	started chan struct{}
	release chan struct{}
	sent    bool
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		p[0] = 'a'
		close(r.started)
		return 1, nil
	}
	<-r.release
	return 0, io.EOF
}

// TestUploadLockAcrossNodes: with shared stores, a request appending to an
// upload holds a lock in the database that a request on another node
// (another Service over the same stores) cannot take; once the first
// returns, the other proceeds.
func TestUploadLockAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, blobs := newTestService(t, true)
	a.opts.SharedStores = true
	b := New(a.meta, blobs, Options{AutoCreateRepositories: true, SharedStores: true})

	up, err := a.StartUpload(ctx, testReg, "app")
	if err != nil {
		t.Fatal(err)
	}
	body := &blockingReader{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := a.AppendUpload(ctx, testReg, "app", up.ID, 0, body)
		done <- err
	}()
	<-body.started

	_, err = b.AppendUpload(ctx, testReg, "app", up.ID, 0, strings.NewReader("b"))
	if !errors.Is(err, ErrBlobUploadBusy) {
		t.Fatalf("an append on another node while one runs: %v, want ErrBlobUploadBusy", err)
	}
	if err := b.CancelUpload(ctx, testReg, "app", up.ID); !errors.Is(err, ErrBlobUploadBusy) {
		t.Fatalf("a cancel on another node while an append runs: %v", err)
	}
	if n, err := b.ExpireUploads(ctx, -1); err != nil || n != 0 {
		t.Fatalf("expiring an upload being written to: %d expired, %v", n, err)
	}

	close(body.release)
	if err := <-done; err != nil {
		t.Fatalf("the first append: %v", err)
	}
	st, err := b.AppendUpload(ctx, testReg, "app", up.ID, 1, strings.NewReader("b"))
	if err != nil || st.Offset != 2 {
		t.Fatalf("the next append on the other node: %+v, %v", st, err)
	}
}
