package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/meta"
)

type pingStore struct {
	meta.Store
	err error
}

func (p pingStore) Ping(context.Context) error { return p.err }

type statStore struct {
	blob.Store
	err error
}

func (s statStore) Stat(context.Context, digest.Digest) (int64, error) { return 0, s.err }

func TestHealthz(t *testing.T) {
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name       string
		metaErr    error
		blobErr    error
		status     int
		body       string
		livez      int
		livezWords string
	}{
		{"both answer", nil, blob.ErrNotFound, 200, "ok", 200, "ok"},
		{"database down", down, blob.ErrNotFound, 503, "unavailable: metadata store: connection refused", 200, "ok"},
		{"blob store down", nil, down, 503, "unavailable: blob store: connection refused", 200, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{meta: pingStore{err: tc.metaErr}, blobs: statStore{err: tc.blobErr}, log: slog.New(slog.DiscardHandler)}
			for _, probe := range []struct {
				h      http.HandlerFunc
				status int
				body   string
			}{{s.serveHealthz, tc.status, tc.body}, {s.serveLivez, tc.livez, tc.livezWords}} {
				w := httptest.NewRecorder()
				probe.h(w, httptest.NewRequest(http.MethodGet, "/", nil))
				body, _ := io.ReadAll(w.Result().Body)
				if w.Code != probe.status || !strings.HasPrefix(string(body), probe.body) {
					t.Errorf("%d %q, want %d %q", w.Code, body, probe.status, probe.body)
				}
			}
		})
	}
}
