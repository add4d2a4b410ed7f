package pullthrough

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

// blobStoreTimeout bounds how long a blob that a client stopped reading
// goes on being stored, past the client.
const blobStoreTimeout = 30 * time.Minute

// Blob answers a blob pull of a repository under a rule when the blob is
// not linked to the repository yet: it streams the upstream's bytes to
// the writer that start returns (start is told the size, -1 if unknown,
// before any byte) while storing them with the registry's verified blob
// write. The client gets each byte as it arrives. If the client goes away
// the store goes on to the end (or until blobStoreTimeout), so the blob is
// whole or absent, never half. It returns ErrNotCached when the name falls
// under no rule or the blob is already linked: the caller serves it as any
// other. A HEAD (head set) asks the upstream for the size only.
//
// Two first pulls of one blob, on one node or several, both fetch and both
// store: the verified write commits one whole blob at its digest, keeps
// the one already there, and linking is idempotent, so the duplicate costs
// upstream bandwidth, never correctness.
func (s *Service) Blob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, head bool, allow Authorize,
	start func(size int64) io.Writer) error {
	rule, rest, err := s.ruleFor(ctx, reg, name)
	if err != nil {
		return err
	}
	if rule == nil {
		return ErrNotCached
	}
	if _, err := s.reg.StatBlob(ctx, reg, name, d); err == nil {
		return ErrNotCached
	} else if !errors.Is(err, registry.ErrBlobUnknown) && !errors.Is(err, registry.ErrNameUnknown) {
		return err
	}
	if err := allow(ctx, "ecr:BatchImportUpstreamImage"); err != nil {
		return err
	}
	ur, err := s.upstreamFor(ctx, rule)
	if err != nil {
		return err
	}
	up := upstreamRepository(rule, rest)
	if head {
		hctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
		size, err := s.client.HeadBlob(hctx, ur, up, d.String())
		if err != nil {
			return s.upstreamError(err, "blob", name, d.String())
		}
		start(size)
		return nil
	}
	if err := s.ensureRepository(ctx, reg, name, allow); err != nil {
		return err
	}
	// The fetch and the store outlive the client: detached from its
	// request, bounded by their own time.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), blobStoreTimeout)
	defer cancel()
	body, size, err := s.client.GetBlob(sctx, ur, up, d.String())
	if err != nil {
		return s.upstreamError(err, "blob", name, d.String())
	}
	defer body.Close()
	s.m.fetches.Inc("blob")
	cw := &clientWriter{w: start(size)}
	counted := &countingReader{r: body}
	err = s.reg.PutBlob(sctx, reg, name, d, io.TeeReader(counted, cw))
	s.m.bytes.Add(float64(counted.n))
	if err != nil {
		s.m.failures.Inc("store")
		return &StreamError{Started: counted.n > 0, Err: fmt.Errorf("store pulled-through blob %s of %s: %w", d, name, err)}
	}
	if cw.err != nil {
		s.log.InfoContext(ctx, "pull through cache stored a blob its client stopped reading", "repository", name, "digest", d, "client_err", cw.err)
	}
	return nil
}

// StreamError is a failure after start was called: the caller may have
// sent bytes already and can only cut the connection.
type StreamError struct {
	Started bool
	Err     error
}

func (e *StreamError) Error() string { return e.Err.Error() }
func (e *StreamError) Unwrap() error { return e.Err }

// clientWriter forwards to the client until its first failure, then
// drops the rest: the store must not stop because the client did.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	if c.err == nil {
		if _, err := c.w.Write(p); err != nil {
			c.err = err
		}
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
