package server

import (
	"context"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves net/http/pprof on its own loopback listener (--pprof)
// until ctx ends. It is for profiling under load: the data-plane mux never
// carries it.
func (s *Server) servePprof(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Pprof)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	s.log.Warn("serving pprof (unauthenticated, for profiling)", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go hs.Serve(ln)
	return nil
}
