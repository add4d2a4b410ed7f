package blobtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

// RunTwoHandles runs the cases of several nodes sharing one store: newPair
// returns two handles (as two processes would open) on the same, empty
// storage, and neither may rely on what the other keeps in memory.
func RunTwoHandles(t *testing.T, newPair func(t *testing.T) (a, b blob.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b blob.Store)
	}{
		{"ChunkedAcrossHandles", testChunkedAcrossHandles},
		{"VisibleAcrossHandles", testVisibleAcrossHandles},
		{"ConcurrentCommitAcrossHandles", testConcurrentCommitAcrossHandles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			tc.fn(t, a, b)
		})
	}
}

// A chunked push whose requests land on alternate nodes, one of them torn.
func testChunkedAcrossHandles(t *testing.T, a, b blob.Store) {
	data := randBytes(3<<20 + 11)
	chunks := []int64{0, 100, 1 << 20, 1<<20 + 1, 2 << 20, int64(len(data))}
	nodes := []blob.Store{a, b}
	for i := range len(chunks) - 1 {
		from, to := chunks[i], chunks[i+1]
		appendOK(t, nodes[i%2], "chunked", from, string(data[from:to]))
	}
	// The other node resumes after a torn write of the last chunk.
	appendOK(t, a, "chunked", int64(len(data)), "torn tail")
	appendOK(t, b, "chunked", 2<<20, string(data[2<<20:]))
	checkShort(t, a, "chunked", int64(len(data))+1)
	checkStaged(t, a, "chunked", string(data))

	d := digest.FromBytes(data)
	if err := b.Commit(t.Context(), "chunked", int64(len(data)), d); err != nil {
		t.Fatalf("Commit through the other handle: %v", err)
	}
	checkBlob(t, a, d, string(data))
	checkGone(t, a, "chunked")
	checkGone(t, b, "chunked")
}

// What one node writes, lists or removes, the other sees.
func testVisibleAcrossHandles(t *testing.T, a, b blob.Store) {
	ctx := t.Context()
	appendOK(t, a, "up", 0, "pending")
	if got := uploads(t, b); !slices.Equal(got, []string{"up"}) {
		t.Errorf("Uploads through b: got %q, want [up]", got)
	}
	if err := b.Abort(ctx, "up"); err != nil {
		t.Fatal(err)
	}
	checkGone(t, a, "up")

	appendOK(t, b, "blob", 0, "shared")
	d := commitAndCheck(t, b, "blob", "shared")
	checkBlob(t, a, d, "shared")
	if got := walk(t, a); len(got) != 1 || got[d] != 6 {
		t.Errorf("Walk through a: got %v, want only %s", got, d)
	}
	if err := a.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat through b after Delete through a: got %v, want ErrNotFound", err)
	}
}

// The same layer pushed through both nodes at once: every commit succeeds
// and readers on either node see no blob or the whole one.
func testConcurrentCommitAcrossHandles(t *testing.T, a, b blob.Store) {
	ctx := t.Context()
	const perNode = 3
	data := randBytes(1<<20 + 5)
	d := digest.FromBytes(data)
	nodes := []blob.Store{a, b}
	for n, s := range nodes {
		for i := range perNode {
			appendOK(t, s, fmt.Sprintf("n%d-%d", n, i), 0, string(data)+"tail")
		}
	}

	done := make(chan struct{})
	var readers sync.WaitGroup
	for _, s := range nodes {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, size, err := s.Open(ctx, d)
				if errors.Is(err, blob.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Errorf("Open during commits: %v", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || size != int64(len(data)) || !bytes.Equal(got, data) {
					t.Errorf("Open during commits: size %d, read %d bytes (%v), want whole blob of %d",
						size, len(got), err, len(data))
					return
				}
			}
		})
	}
	var wg sync.WaitGroup
	for n, s := range nodes {
		for i := range perNode {
			wg.Go(func() {
				if err := s.Commit(ctx, fmt.Sprintf("n%d-%d", n, i), int64(len(data)), d); err != nil {
					t.Errorf("Commit n%d-%d: %v", n, i, err)
				}
			})
		}
	}
	wg.Wait()
	close(done)
	readers.Wait()

	for _, s := range nodes {
		checkBlob(t, s, d, string(data))
		if ids := uploads(t, s); len(ids) != 0 {
			t.Errorf("Uploads after commits: got %q", ids)
		}
	}
}
