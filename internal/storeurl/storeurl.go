// Package storeurl reads the URLs that choose Berth's stores, for `berth
// serve` and every command that opens them:
//
//	--meta  sqlite:PATH                      the embedded database (default <data>/berth.db)
//	        postgres://user:pass@host:port/db?sslmode=…
//	--blobs file:PATH                        a local directory (default <data>/blobs)
//	        s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path-style=true
//
// It only parses: opening is the stores' business.
package storeurl

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// Meta is a parsed --meta URL.
type Meta struct {
	// Scheme is "sqlite" or "postgres".
	Scheme string
	// Path is the SQLite database file.
	Path string
	// DSN is the PostgreSQL connection URL, as given.
	DSN string
}

// Blobs is a parsed --blobs URL.
type Blobs struct {
	// Scheme is "file" or "s3".
	Scheme string
	// Path is the blob directory of a file store.
	Path string
	// S3 is the bucket of an s3 store.
	S3 S3
}

// S3 locates an S3 bucket.
type S3 struct {
	Bucket string
	// Prefix is the key prefix Berth keeps its objects under, without
	// slashes at either end; "" for the whole bucket.
	Prefix string
	// Endpoint is the S3 server's URL; "" for AWS's.
	Endpoint string
	Region   string
	// PathStyle addresses the bucket in the path rather than the host
	// (most S3-compatible servers need it).
	PathStyle bool
}

// Redacted is u without its password, for logs and errors.
func (m Meta) Redacted() string {
	if m.Scheme != "postgres" {
		return m.Scheme + ":" + m.Path
	}
	if u, err := url.Parse(m.DSN); err == nil {
		return u.Redacted()
	}
	return "postgres://…"
}

// ParseMeta reads a --meta URL; "" is the embedded database in dataDir.
func ParseMeta(s, dataDir string) (Meta, error) {
	if s == "" {
		return Meta{Scheme: "sqlite", Path: filepath.Join(dataDir, "berth.db")}, nil
	}
	scheme, rest, ok := strings.Cut(s, ":")
	switch {
	case ok && scheme == "sqlite":
		if rest == "" {
			return Meta{}, errors.New("--meta sqlite:PATH needs the database file's path")
		}
		return Meta{Scheme: "sqlite", Path: rest}, nil
	case ok && (scheme == "postgres" || scheme == "postgresql"):
		u, err := url.Parse(s)
		if err != nil {
			return Meta{}, fmt.Errorf("--meta: not a PostgreSQL URL: %w", err)
		}
		if u.Host == "" {
			return Meta{}, fmt.Errorf("--meta %s: a PostgreSQL URL names its host: postgres://user:pass@host:5432/db?sslmode=disable", u.Redacted())
		}
		return Meta{Scheme: "postgres", DSN: s}, nil
	}
	return Meta{}, fmt.Errorf("--meta %q: use sqlite:PATH or postgres://user:pass@host:port/db", redactAny(s))
}

// ParseBlobs reads a --blobs URL; "" is the blob directory in dataDir.
func ParseBlobs(s, dataDir string) (Blobs, error) {
	if s == "" {
		return Blobs{Scheme: "file", Path: filepath.Join(dataDir, "blobs")}, nil
	}
	scheme, rest, ok := strings.Cut(s, ":")
	switch {
	case ok && scheme == "file":
		rest = strings.TrimPrefix(rest, "//")
		if rest == "" {
			return Blobs{}, errors.New("--blobs file:PATH needs the blob directory's path")
		}
		return Blobs{Scheme: "file", Path: rest}, nil
	case ok && scheme == "s3":
		b, err := parseS3(s)
		if err != nil {
			return Blobs{}, err
		}
		return Blobs{Scheme: "s3", S3: b}, nil
	}
	return Blobs{}, fmt.Errorf("--blobs %q: use file:PATH or s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path-style=true", s)
}

func parseS3(s string) (S3, error) {
	u, err := url.Parse(s)
	if err != nil {
		return S3{}, fmt.Errorf("--blobs: not an s3:// URL: %w", err)
	}
	if u.User != nil {
		return S3{}, errors.New("--blobs: credentials do not go in the URL; set BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY, or use the AWS SDK's default chain")
	}
	b := S3{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	if b.Bucket == "" {
		return S3{}, fmt.Errorf("--blobs %s: name the bucket: s3://BUCKET[/PREFIX]", s)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "path-style":
		default:
			return S3{}, fmt.Errorf("--blobs %s: unknown parameter %q (endpoint, region and path-style are known)", s, k)
		}
	}
	b.Endpoint, b.Region = q.Get("endpoint"), q.Get("region")
	if b.Endpoint != "" {
		e, err := url.Parse(b.Endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return S3{}, fmt.Errorf("--blobs %s: endpoint %q is not an http(s) URL", s, b.Endpoint)
		}
	}
	if v := q.Get("path-style"); v != "" {
		ps, err := strconv.ParseBool(v)
		if err != nil {
			return S3{}, fmt.Errorf("--blobs %s: path-style=%q: use true or false", s, v)
		}
		b.PathStyle = ps
	}
	return b, nil
}

// redactAny hides what looks like a password in a URL that did not parse
// as one Berth knows.
func redactAny(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}
