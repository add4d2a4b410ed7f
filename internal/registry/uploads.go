package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

// Upload is the state of an upload session as the front doors report it.
type Upload struct {
	ID     string
	Repo   string
	Offset int64
}

func uploadUnknown(id string) *Error {
	return &Error{
		Kind:    ErrBlobUploadUnknown,
		Message: fmt.Sprintf("upload %q does not exist: it was completed, cancelled or never started; start a new upload", truncate(id, 80)),
	}
}

// newUploadID returns a random UUID: the ECR API's uploadId must have that
// shape, and an upload is one session whichever front door started it.
func newUploadID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// StartUpload opens an upload session in a repository.
func (s *Service) StartUpload(ctx context.Context, reg meta.RegistryKey, name string) (*Upload, error) {
	r, err := s.Repository(ctx, reg, name, true)
	if err != nil {
		return nil, err
	}
	return s.startUpload(ctx, r, digest.SHA256)
}

func (s *Service) startUpload(ctx context.Context, r *meta.Repository, alg digest.Algorithm) (*Upload, error) {
	state, err := marshalHash(alg, newHash(alg))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &meta.Upload{ID: newUploadID(), RepoID: r.ID, HashState: state, CreatedAt: now, UpdatedAt: now}
	if err := s.meta.CreateUpload(ctx, u); err != nil {
		return nil, fmt.Errorf("create upload: %w", err)
	}
	return &Upload{ID: u.ID, Repo: r.Name}, nil
}

// UploadStatus reports how many bytes an upload holds.
func (s *Service) UploadStatus(ctx context.Context, reg meta.RegistryKey, name, id string) (*Upload, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	u, err := s.getUpload(ctx, r, id)
	if err != nil {
		return nil, err
	}
	return &Upload{ID: u.ID, Repo: name, Offset: u.Offset}, nil
}

func (s *Service) getUpload(ctx context.Context, r *meta.Repository, id string) (*meta.Upload, error) {
	u, err := s.meta.GetUpload(ctx, r.ID, id)
	if errors.Is(err, meta.ErrUploadUnknown) {
		return nil, uploadUnknown(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get upload: %w", err)
	}
	return u, nil
}

// AppendUpload streams body into an upload. start is the offset the client
// says the chunk begins at, or -1 when it did not say. It returns the new
// size of the upload.
func (s *Service) AppendUpload(ctx context.Context, reg meta.RegistryKey, name, id string, start int64, body io.Reader) (*Upload, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	u, err := s.getUpload(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if err := s.appendLocked(ctx, u, start, body, false); err != nil {
		return &Upload{ID: id, Repo: name, Offset: u.Offset}, err
	}
	return &Upload{ID: id, Repo: name, Offset: u.Offset}, nil
}

// appendLocked streams body into the staging object while hashing it and
// records the progress. On return u reflects what is recorded, except that
// with completing set a successful append is not recorded: the caller
// completes the upload next, which deletes the record anyway, and records
// the progress itself (recordProgress) if it cannot.
func (s *Service) appendLocked(ctx context.Context, u *meta.Upload, start int64, body io.Reader, completing bool) error {
	if start >= 0 && start != u.Offset {
		return &Error{
			Kind:    ErrRangeInvalid,
			Message: fmt.Sprintf("chunk starts at byte %d but the upload holds %d bytes: send the chunk that starts at byte %d", start, u.Offset, u.Offset),
		}
	}
	alg, h, err := unmarshalHash(u.HashState)
	if err != nil {
		return fmt.Errorf("upload %s: %w", u.ID, err)
	}
	limit := s.opts.MaxBlobSize - u.Offset
	hr := &hashingReader{r: io.LimitReader(body, limit+1), h: h}
	n, appendErr := s.blobs.Append(ctx, u.ID, u.Offset, hr)
	if appendErr != nil && hr.err != nil && errors.Is(appendErr, hr.err) {
		// The client's body failed, not the store: keep what arrived and
		// tell the client, who may still be listening.
		appendErr = &Error{
			Kind:    ErrSizeInvalid,
			Message: fmt.Sprintf("the request body ended after %d bytes, before its declared length: %v", hr.n, hr.err),
		}
	}
	if n != hr.n {
		// The store wrote less than was hashed (a write failed). The
		// recorded offset stays where it was; the torn tail is discarded
		// by the next append.
		if appendErr == nil {
			appendErr = io.ErrShortWrite
		}
		return fmt.Errorf("upload %s: %w", u.ID, appendErr)
	}
	if n > 0 {
		state, err := marshalHash(alg, h)
		if err != nil {
			return err
		}
		next := *u
		next.Offset += n
		next.HashState = state
		next.UpdatedAt = s.now().UTC()
		if !completing || appendErr != nil || next.Offset > s.opts.MaxBlobSize {
			if err := s.recordProgress(ctx, &next, u.Offset); err != nil {
				return err
			}
		}
		*u = next
	}
	if u.Offset > s.opts.MaxBlobSize {
		return errorf(ErrTooLarge, "blob exceeds the %d-byte limit", s.opts.MaxBlobSize)
	}
	if de := (*Error)(nil); errors.As(appendErr, &de) {
		return de
	}
	if appendErr != nil {
		return fmt.Errorf("upload %s: %w", u.ID, appendErr)
	}
	return nil
}

// CompleteUpload appends a final chunk (body may be empty), verifies the
// whole upload against d and makes the blob visible in the repository. A
// digest mismatch ends the session: its bytes are discarded.
func (s *Service) CompleteUpload(ctx context.Context, reg meta.RegistryKey, name, id string, start int64, body io.Reader, d digest.Digest) error {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return err
	}
	unlock, err := s.lockUpload(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	u, err := s.getUpload(ctx, r, id)
	if err != nil {
		return err
	}
	if done, err := s.putDirect(ctx, r, u, start, body, d); done {
		return err
	}
	from := u.Offset
	if err := s.appendLocked(ctx, u, start, body, true); err != nil {
		return err
	}
	err = s.finish(ctx, r, u, d)
	if err != nil && u.Offset != from && !errors.Is(err, ErrDigestInvalid) && !errors.Is(err, ErrBlobUploadUnknown) {
		// The session outlives this request: record the bytes it staged,
		// so that a retried PUT finds them.
		if rerr := s.recordProgress(ctx, u, from); rerr != nil {
			s.log.WarnContext(ctx, "record upload progress", "upload", u.ID, "err", rerr)
		}
	}
	return err
}

// recordProgress stores u's new offset and hash state; from is the offset
// recorded before.
func (s *Service) recordProgress(ctx context.Context, u *meta.Upload, from int64) error {
	// Bookkeeping for bytes already received finishes even when the
	// client has gone (which cancels ctx).
	if err := s.meta.AdvanceUpload(context.WithoutCancel(ctx), u.ID, from, u); err != nil {
		if errors.Is(err, meta.ErrUploadUnknown) {
			return uploadUnknown(u.ID)
		}
		return fmt.Errorf("upload %s: record progress: %w", u.ID, err)
	}
	return nil
}

func (s *Service) finish(ctx context.Context, r *meta.Repository, u *meta.Upload, d digest.Digest) error {
	// Once all bytes are in, completion no longer depends on the client.
	ctx = context.WithoutCancel(ctx)
	got, err := s.uploadDigest(ctx, u, d.Algorithm())
	if err != nil {
		return err
	}
	if got != d {
		s.abort(ctx, u.ID)
		return &Error{
			Kind:    ErrDigestInvalid,
			Message: fmt.Sprintf("the %d bytes uploaded hash to %s, not to the digest %s given: the upload was discarded, push the blob again", u.Offset, got, d),
			Detail:  map[string]string{"digest": d.String()},
		}
	}
	// From here until CompleteUpload, garbage collection must leave d's
	// bytes alone (see gc.go).
	if err := s.reserveBlob(ctx, u.ID, d); err != nil {
		return err
	}
	if err := s.blobs.Commit(ctx, u.ID, u.Offset, d); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	if err := s.meta.CompleteUpload(ctx, u.ID, r.ID, meta.Blob{Digest: d.String(), Size: u.Offset}); err != nil {
		if errors.Is(err, meta.ErrUploadUnknown) {
			return uploadUnknown(u.ID)
		}
		return fmt.Errorf("complete upload %s: %w", u.ID, err)
	}
	return nil
}

// putDirect completes an upload whose bytes all come with the request that
// names their digest, when nothing is staged yet and the store can write a
// verified blob straight to its address (blob.VerifiedPutter): the bytes are
// written once, not staged and then copied. done reports whether it took
// the upload; if not, the caller stages and commits as usual.
func (s *Service) putDirect(ctx context.Context, r *meta.Repository, u *meta.Upload, start int64, body io.Reader, d digest.Digest) (done bool, err error) {
	vp, ok := s.blobs.(blob.VerifiedPutter)
	if !ok || u.Offset != 0 || start > 0 || body == nil {
		return false, nil
	}
	alg, h, err := unmarshalHash(u.HashState)
	if err != nil || alg != d.Algorithm() {
		return false, nil
	}
	// Garbage collection must leave d's bytes alone from before they land
	// until CompleteUpload links them (see gc.go).
	if err := s.reserveBlob(ctx, u.ID, d); err != nil {
		return true, err
	}
	hr := &hashingReader{r: io.LimitReader(body, s.opts.MaxBlobSize+1), h: h}
	verify := func() error {
		if hr.n > s.opts.MaxBlobSize {
			return errorf(ErrTooLarge, "blob exceeds the %d-byte limit", s.opts.MaxBlobSize)
		}
		if got := digest.NewDigest(alg, h); got != d {
			return &Error{
				Kind:    ErrDigestInvalid,
				Message: fmt.Sprintf("the %d bytes uploaded hash to %s, not to the digest %s given: the upload was discarded, push the blob again", hr.n, got, d),
				Detail:  map[string]string{"digest": d.String()},
			}
		}
		return nil
	}
	n, err := vp.PutVerified(ctx, d, hr, verify)
	if err != nil {
		var de *Error
		switch {
		case errors.As(err, &de):
			if errors.Is(err, ErrDigestInvalid) {
				s.abort(ctx, u.ID)
			}
			return true, de
		case hr.err != nil && errors.Is(err, hr.err):
			return true, &Error{
				Kind:    ErrSizeInvalid,
				Message: fmt.Sprintf("the request body ended after %d bytes, before its declared length: %v", hr.n, hr.err),
			}
		}
		return true, fmt.Errorf("upload %s: write blob %s: %w", u.ID, d, err)
	}
	if err := s.meta.CompleteUpload(context.WithoutCancel(ctx), u.ID, r.ID, meta.Blob{Digest: d.String(), Size: n}); err != nil {
		if errors.Is(err, meta.ErrUploadUnknown) {
			return true, uploadUnknown(u.ID)
		}
		return true, fmt.Errorf("complete upload %s: %w", u.ID, err)
	}
	return true, nil
}

// uploadDigest returns the digest of the staged bytes with algorithm alg,
// from the running hash when it matches, or by reading the bytes back.
func (s *Service) uploadDigest(ctx context.Context, u *meta.Upload, alg digest.Algorithm) (digest.Digest, error) {
	running, h, err := unmarshalHash(u.HashState)
	if err != nil {
		return "", err
	}
	if running == alg {
		return digest.NewDigest(alg, h), nil
	}
	rc, err := s.blobs.OpenUpload(ctx, u.ID, u.Offset)
	if err != nil {
		return "", fmt.Errorf("read back upload %s: %w", u.ID, err)
	}
	defer rc.Close()
	v := alg.Digester()
	if _, err := io.Copy(v.Hash(), rc); err != nil {
		return "", fmt.Errorf("read back upload %s: %w", u.ID, err)
	}
	return v.Digest(), nil
}

// CancelUpload ends an upload session and discards its bytes.
func (s *Service) CancelUpload(ctx context.Context, reg meta.RegistryKey, name, id string) error {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return err
	}
	unlock, err := s.lockUpload(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.getUpload(ctx, r, id); err != nil {
		return err
	}
	s.abort(ctx, id)
	return nil
}

// abort removes the session first, so that a crash in between leaves a
// staging object without a session, which the next start removes.
func (s *Service) abort(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.meta.DeleteUpload(ctx, id); err != nil && !errors.Is(err, meta.ErrUploadUnknown) {
		s.log.WarnContext(ctx, "delete upload session", "upload", id, "err", err)
	}
	if err := s.blobs.Abort(ctx, id); err != nil {
		s.log.WarnContext(ctx, "remove upload staging", "upload", id, "err", err)
	}
}

// PutBlob stores a whole blob in one request (the monolithic push).
func (s *Service) PutBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, body io.Reader) (err error) {
	r, undo, err := s.repositoryForPush(ctx, reg, name)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	up, err := s.startUpload(ctx, r, d.Algorithm())
	if err != nil {
		return err
	}
	u, err := s.getUpload(ctx, r, up.ID)
	if err != nil {
		return err
	}
	if done, err := s.putDirect(ctx, r, u, 0, body, d); done {
		if err != nil && !errors.Is(err, ErrDigestInvalid) {
			s.abort(ctx, u.ID)
		}
		return err
	}
	// The session is this request's own: on failure it is discarded, so
	// its progress need not be recorded.
	if err := s.appendLocked(ctx, u, 0, body, true); err != nil {
		s.abort(ctx, u.ID)
		return err
	}
	if err := s.finish(ctx, r, u, d); err != nil {
		if !errors.Is(err, ErrDigestInvalid) {
			s.abort(ctx, u.ID)
		}
		return err
	}
	return nil
}

// ExpireUploads ends the upload sessions that made no progress for ttl and
// discards their bytes: uploads abandoned by clients, and the sessions of
// monolithic pushes cut short by a crash, which no client can resume.
func (s *Service) ExpireUploads(ctx context.Context, ttl time.Duration) (int, error) {
	ids, err := s.meta.StaleUploads(ctx, s.now().Add(-ttl))
	if err != nil {
		return 0, fmt.Errorf("list stale uploads: %w", err)
	}
	n := 0
	for _, id := range ids {
		unlock, err := s.lockUpload(ctx, id)
		if err != nil {
			continue // a request is writing to it: not abandoned after all
		}
		s.abort(ctx, id)
		unlock()
		n++
	}
	return n, nil
}

// CleanStaging removes staging objects that no upload session owns: the
// leftovers of a crash between creating one and recording it, or of an
// abort cut short. Sessions are listed after staging objects, and a session
// is always recorded before its staging object is created, so an upload
// starting meanwhile is never removed.
func (s *Service) CleanStaging(ctx context.Context) (int, error) {
	staged, err := s.blobs.Uploads(ctx)
	if err != nil {
		return 0, fmt.Errorf("list staging: %w", err)
	}
	ids, err := s.meta.UploadIDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("list uploads: %w", err)
	}
	owned := make(map[string]bool, len(ids))
	for _, id := range ids {
		owned[id] = true
	}
	removed := 0
	for _, id := range staged {
		if owned[id] {
			continue
		}
		if err := s.blobs.Abort(ctx, id); err != nil {
			return removed, fmt.Errorf("remove staging %s: %w", id, err)
		}
		removed++
	}
	return removed, nil
}

func newHash(alg digest.Algorithm) hash.Hash {
	if alg == digest.SHA512 {
		return sha512.New()
	}
	return sha256.New()
}

// A hash state is stored as "<algorithm>\x00<marshalled state>".
func marshalHash(alg digest.Algorithm, h hash.Hash) ([]byte, error) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("hash %s cannot be saved", alg)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save %s state: %w", alg, err)
	}
	return append([]byte(string(alg)+"\x00"), b...), nil
}

func unmarshalHash(state []byte) (digest.Algorithm, hash.Hash, error) {
	name, b, ok := bytes.Cut(state, []byte{0})
	if !ok {
		return "", nil, errors.New("upload hash state is corrupt")
	}
	alg := digest.Algorithm(name)
	if alg != digest.SHA256 && alg != digest.SHA512 {
		return "", nil, fmt.Errorf("upload hash state has unknown algorithm %q", name)
	}
	h := newHash(alg)
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
		return "", nil, fmt.Errorf("restore %s state: %w", alg, err)
	}
	return alg, h, nil
}

// Upload locks. Requests on one upload session must not overlap: two
// appends from one offset would write the same staging bytes. Within a
// process a mutex serialises them. Where several nodes share the stores
// (Options.SharedStores), a lease in the database does it across nodes,
// renewed while the request runs; a request that finds it held elsewhere
// is refused at once rather than kept waiting, as clients send one chunk
// at a time and a second one in flight is a client's mistake or a retry
// whose first try still runs.
const uploadLeaseTTL = time.Minute

// lockUpload takes the upload's lock; unlock gives it back.
func (s *Service) lockUpload(ctx context.Context, id string) (unlock func(), err error) {
	unlockLocal := s.uploadLocks.lock(id)
	if !s.opts.SharedStores {
		return unlockLocal, nil
	}
	release, ok, err := s.holdLease(ctx, "upload/"+id, s.node+"/"+newUploadID(), uploadLeaseTTL)
	if err != nil {
		unlockLocal()
		return nil, fmt.Errorf("lock upload %s: %w", id, err)
	}
	if !ok {
		unlockLocal()
		return nil, errorf(ErrBlobUploadBusy, "another request is writing to upload %q now: send the next chunk once it has been answered", truncate(id, 80))
	}
	return func() {
		release()
		unlockLocal()
	}, nil
}
