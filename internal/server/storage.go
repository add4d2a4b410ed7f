package server

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/blob/s3"
	"github.com/berth-registry/berth/internal/config"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/postgres"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/storeurl"
)

// OpenMeta opens the metadata store a --meta URL names ("" for the
// embedded database in dataDir): for `berth serve` and every command that
// opens storage.
func OpenMeta(ctx context.Context, rawURL, dataDir string) (meta.Store, error) {
	u, err := storeurl.ParseMeta(rawURL, dataDir)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "sqlite":
		s, err := sqlite.Open(u.Path)
		if err != nil {
			return nil, fmt.Errorf("open metadata store %s: %w", u.Redacted(), err)
		}
		return s, nil
	case "postgres":
		s, err := postgres.Open(ctx, u.DSN)
		if err != nil {
			return nil, fmt.Errorf("open metadata store %s: %w", u.Redacted(), err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--meta %s: this build of Berth cannot open %s stores", u.Redacted(), u.Scheme)
}

// S3Credentials are the static keys of an s3:// blob store; empty ones
// leave the AWS SDK's default chain (environment, profiles, instance and
// task roles) to find them.
type S3Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// OpenBlobs opens the blob store a --blobs URL names ("" for the blob
// directory in dataDir).
func OpenBlobs(ctx context.Context, rawURL, dataDir string, creds S3Credentials) (blob.Store, error) {
	u, err := storeurl.ParseBlobs(rawURL, dataDir)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		s, err := fs.New(u.Path)
		if err != nil {
			return nil, fmt.Errorf("open blob store file:%s: %w", u.Path, err)
		}
		return s, nil
	case "s3":
		b := u.S3
		s, err := s3.New(ctx, s3.Config{Bucket: b.Bucket, Prefix: b.Prefix, Endpoint: b.Endpoint, Region: b.Region, PathStyle: b.PathStyle,
			AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey})
		if err != nil {
			return nil, fmt.Errorf("open blob store s3://%s/%s: %w", b.Bucket, b.Prefix, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--blobs: this build of Berth cannot open %s stores", u.Scheme)
}

// sharedStores reports whether other nodes may share the stores the
// configuration names: a database server, unlike an SQLite file, is there
// to be shared, and the locks that guard data must then live in it.
func sharedStores(cfg *config.Config) bool {
	u, err := storeurl.ParseMeta(cfg.Meta, cfg.DataDir)
	return err == nil && u.Scheme == "postgres"
}
