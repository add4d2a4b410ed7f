package storeurl

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMeta(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Meta
		wantErr string
	}{
		{in: "", want: Meta{Scheme: "sqlite", Path: filepath.Join("data", "berth.db")}},
		{in: "sqlite:/var/lib/berth/meta.db", want: Meta{Scheme: "sqlite", Path: "/var/lib/berth/meta.db"}},
		{in: "sqlite:rel/meta.db", want: Meta{Scheme: "sqlite", Path: "rel/meta.db"}},
		{in: "postgres://berth:pw@db:5432/berth?sslmode=disable", want: Meta{Scheme: "postgres", DSN: "postgres://berth:pw@db:5432/berth?sslmode=disable"}},
		{in: "postgresql://db/berth", want: Meta{Scheme: "postgres", DSN: "postgresql://db/berth"}},
		{in: "sqlite:", wantErr: "needs the database file's path"},
		{in: "postgres:///berth", wantErr: "names its host"},
		{in: "mysql://u:secret@db/berth", wantErr: "use sqlite:PATH or postgres://"},
		{in: "berth.db", wantErr: "use sqlite:PATH"},
	} {
		got, err := ParseMeta(tc.in, "data")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseMeta(%q) = %+v, %v; want an error saying %q", tc.in, got, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseMeta(%q): the error shows the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMeta(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if r := (Meta{Scheme: "postgres", DSN: "postgres://berth:secret@db/berth"}).Redacted(); strings.Contains(r, "secret") {
		t.Errorf("Redacted shows the password: %s", r)
	}
}

func TestParseBlobs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Blobs
		wantErr string
	}{
		{in: "", want: Blobs{Scheme: "file", Path: filepath.Join("data", "blobs")}},
		{in: "file:/srv/blobs", want: Blobs{Scheme: "file", Path: "/srv/blobs"}},
		{in: "file:///srv/blobs", want: Blobs{Scheme: "file", Path: "/srv/blobs"}},
		{in: "s3://bucket", want: Blobs{Scheme: "s3", S3: S3{Bucket: "bucket"}}},
		{in: "s3://bucket/some/prefix/?endpoint=http://127.0.0.1:9000&region=us-east-1&path-style=true",
			want: Blobs{Scheme: "s3", S3: S3{Bucket: "bucket", Prefix: "some/prefix", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", PathStyle: true}}},
		{in: "file:", wantErr: "needs the blob directory's path"},
		{in: "s3://", wantErr: "name the bucket"},
		{in: "s3://key:secret@bucket", wantErr: "credentials do not go in the URL"},
		{in: "s3://bucket?endpoint=ftp://x", wantErr: "not an http(s) URL"},
		{in: "s3://bucket?path-style=maybe", wantErr: "use true or false"},
		{in: "s3://bucket?acl=public", wantErr: `unknown parameter "acl"`},
		{in: "gs://bucket", wantErr: "use file:PATH or s3://"},
	} {
		got, err := ParseBlobs(tc.in, "data")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseBlobs(%q) = %+v, %v; want an error saying %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBlobs(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
