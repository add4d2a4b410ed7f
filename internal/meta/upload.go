package meta

import (
	"context"
	"time"
)

// Upload is an upload session in progress.
type Upload struct {
	ID     string
	RepoID int64
	// Offset is the number of bytes staged and hashed so far.
	Offset int64
	// HashState is the marshalled state of the running hash over the
	// first Offset bytes.
	HashState []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UploadStore keeps upload sessions in progress.
type UploadStore interface {
	CreateUpload(ctx context.Context, u *Upload) error
	GetUpload(ctx context.Context, repoID int64, id string) (*Upload, error)
	// AdvanceUpload records new progress; it fails with ErrOffsetMismatch
	// unless the stored offset is still from.
	AdvanceUpload(ctx context.Context, id string, from int64, u *Upload) error
	// CompleteUpload deletes the upload session and links the blob in one
	// transaction.
	CompleteUpload(ctx context.Context, id string, repoID int64, b Blob) error
	DeleteUpload(ctx context.Context, id string) error
	// UploadIDs lists every upload session, across repositories.
	UploadIDs(ctx context.Context) ([]string, error)
	// StaleUploads lists the upload sessions last updated before before.
	StaleUploads(ctx context.Context, before time.Time) ([]string, error)
}
