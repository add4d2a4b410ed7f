package postgres

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// TestUnavailable: a database that cannot be reached, or goes away, is
// meta.ErrUnavailable, said in words; a wrong configuration is not.
func TestUnavailable(t *testing.T) {
	t.Run("unreachable at open", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		_, err = Open(t.Context(), "postgres://berth@"+addr+"/berth?sslmode=disable")
		if !errors.Is(err, meta.ErrUnavailable) {
			t.Fatalf("Open of a closed port: %v, want an error wrapping meta.ErrUnavailable", err)
		}
		t.Log(err)
		for _, want := range []string{"unavailable", addr} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})

	t.Run("connection drops", func(t *testing.T) {
		u, err := url.Parse(pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		p := startProxy(t, u.Host)
		u.Host = p.addr
		s := openURL(t, u.String())
		defer s.Close()
		reg := meta.RegistryKey{Account: "1", Region: "r"}
		if err := s.CreateRepository(t.Context(), &meta.Repository{Registry: reg, Name: "before"}); err != nil {
			t.Fatalf("CreateRepository through the proxy: %v", err)
		}

		p.cut() // the server is gone, and so is every connection to it
		_, err = s.GetRepository(t.Context(), reg, "before")
		checkUnavailable(t, "GetRepository", err)
		t.Log(err)
		err = s.CreateRepository(t.Context(), &meta.Repository{Registry: reg, Name: "after"})
		checkUnavailable(t, "CreateRepository", err)
		_, err = s.ClaimJob(t.Context(), []string{"q"}, "w", time.Now(), time.Minute)
		checkUnavailable(t, "ClaimJob", err)
		err = s.PutManifest(t.Context(), &meta.PutManifest{RepoID: 1, Manifest: meta.Manifest{Digest: "sha256:x", Content: []byte("{}")}})
		checkUnavailable(t, "PutManifest", err)
		err = s.RequestScan(t.Context(), meta.ScanRequest{RepoID: 1, Digest: "sha256:x", At: time.Now(), Trigger: "manual"}, nil)
		checkUnavailable(t, "RequestScan", err)
		_, err = s.ImageScans(t.Context(), []string{"sha256:x"})
		checkUnavailable(t, "ImageScans", err)
	})

	t.Run("wrong database", func(t *testing.T) {
		u, err := url.Parse(pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/no_such_database"
		_, err = Open(t.Context(), u.String())
		if err == nil || errors.Is(err, meta.ErrUnavailable) {
			t.Fatalf("Open of a database that does not exist: %v, want an error, not meta.ErrUnavailable", err)
		}
	})
}

func checkUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, meta.ErrUnavailable) {
		t.Errorf("%s after the connection dropped: %v, want an error wrapping meta.ErrUnavailable", what, err)
	}
}

// proxy forwards TCP connections to the database until it is cut, as a
// network between a node and its database would.
type proxy struct {
	addr  string
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: l.Addr().String(), l: l}
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(up, c); up.Close() })
			p.wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
	t.Cleanup(p.cut)
	return p
}

// cut stops listening and closes every connection.
func (p *proxy) cut() {
	p.l.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
