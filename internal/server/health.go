package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/opencontainers/go-digest"
)

// healthTimeout bounds each store's check: a load balancer's probe must
// get an answer even when a store hangs.
const healthTimeout = 2 * time.Second

// absentDigest names no blob; asking for it checks that the blob store
// answers without reading anything.
var absentDigest = digest.FromString("berth health check")

// checkStores reports the first store that does not answer.
func (s *Server) checkStores(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if err := s.meta.Ping(ctx); err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	if _, err := s.blobs.Stat(ctx, absentDigest); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("blob store: %w", err)
	}
	return nil
}

// serveHealthz is the readiness probe: 200 "ok" while both stores answer,
// 503 saying which does not. Unauthenticated, like /metrics.
func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.checkStores(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unavailable: %v\n", err)
		return
	}
	w.Write([]byte("ok\n"))
}

// serveLivez is the liveness probe: the process answers HTTP. It does not
// look at the stores: a node whose database is down must not be
// restarted for it.
func (s *Server) serveLivez(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
