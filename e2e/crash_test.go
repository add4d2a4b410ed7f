package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	_ "modernc.org/sqlite" // "sqlite" driver, to inspect berth.db read-only
)

const (
	mtOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex    = "application/vnd.oci.image.index.v1+json"
	mtOCIConfig   = "application/vnd.oci.image.config.v1+json"
	mtOCILayer    = "application/vnd.oci.image.layer.v1.tar"
)

// ---------------------------------------------------------------------------
// A small registry client over plain net/http, for tests that need to see
// every status and header.

type httpReg struct {
	base string // http://host:port
	hc   *http.Client
	tr   *http.Transport
}

// newHTTPReg is a client of b's current address, logged in to b.
func newHTTPReg(t testing.TB, b *berth) *httpReg {
	t.Helper()
	tr := &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &httpReg{base: b.URL, tr: tr, hc: &http.Client{
		Transport: b.Transport(t, tr),
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

func (c *httpReg) close() { c.tr.CloseIdleConnections() }

// url resolves a path or a Location header against the registry.
func (c *httpReg) url(loc string) string {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		return loc
	}
	return c.base + loc
}

// httpRegStatusError is an answer the client did not expect.
type httpRegStatusError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *httpRegStatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// do sends one request and reads the whole answer.
func (c *httpReg) do(ctx context.Context, method, loc string, hdr http.Header, body []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(loc), rd)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, b, fmt.Errorf("%s %s: reading the answer: %w", method, loc, err)
	}
	return resp, b, nil
}

// expect sends a request and fails unless the status is want.
func (c *httpReg) expect(ctx context.Context, want int, method, loc string, hdr http.Header, body []byte) (*http.Response, []byte, error) {
	resp, b, err := c.do(ctx, method, loc, hdr, body)
	if err != nil {
		return resp, b, err
	}
	if resp.StatusCode != want {
		return resp, b, &httpRegStatusError{method, loc, resp.StatusCode, string(b)}
	}
	return resp, b, nil
}

func crWithQuery(loc, kv string) string {
	if strings.Contains(loc, "?") {
		return loc + "&" + kv
	}
	return loc + "?" + kv
}

func crOctet() http.Header { return http.Header{"Content-Type": {"application/octet-stream"}} }

// crCheckCreated checks the answer that acknowledges a blob.
func crCheckCreated(resp *http.Response, d digest.Digest) error {
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != d.String() {
		return fmt.Errorf("blob acknowledged with Docker-Content-Digest %s, want %s", got, d)
	}
	if resp.Header.Get("Location") == "" {
		return fmt.Errorf("201 for blob %s has no Location", d)
	}
	return nil
}

// pushMonolithic: POST /blobs/uploads/?digest= with the whole blob.
func (c *httpReg) pushMonolithic(ctx context.Context, repo string, data []byte, d digest.Digest) error {
	resp, _, err := c.expect(ctx, http.StatusCreated, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), crOctet(), data)
	if err != nil {
		return err
	}
	return crCheckCreated(resp, d)
}

// startUpload opens a session and returns its Location and id.
func (c *httpReg) startUpload(ctx context.Context, repo string) (string, string, error) {
	resp, _, err := c.expect(ctx, http.StatusAccepted, "POST", "/v2/"+repo+"/blobs/uploads/", nil, nil)
	if err != nil {
		return "", "", err
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", "", fmt.Errorf("POST /v2/%s/blobs/uploads/: 202 without Location", repo)
	}
	id := resp.Header.Get("Docker-Upload-UUID")
	if id == "" {
		p := loc
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		id = p[strings.LastIndexByte(p, '/')+1:]
	}
	return loc, id, nil
}

// pushPostPut: POST to open a session, PUT the whole blob with the digest.
func (c *httpReg) pushPostPut(ctx context.Context, repo string, data []byte, d digest.Digest, session func(id string)) error {
	loc, id, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	session(id)
	resp, _, err := c.expect(ctx, http.StatusCreated, "PUT", crWithQuery(loc, "digest="+d.String()), crOctet(), data)
	if err != nil {
		return err
	}
	return crCheckCreated(resp, d)
}

// patchChunk sends one chunk and returns the next Location.
func (c *httpReg) patchChunk(ctx context.Context, loc string, start int64, chunk []byte) (string, error) {
	h := crOctet()
	h.Set("Content-Range", fmt.Sprintf("%d-%d", start, start+int64(len(chunk))-1))
	resp, _, err := c.expect(ctx, http.StatusAccepted, "PATCH", loc, h, chunk)
	if err != nil {
		return "", err
	}
	if want := fmt.Sprintf("0-%d", start+int64(len(chunk))-1); resp.Header.Get("Range") != want {
		return "", fmt.Errorf("PATCH %s: Range %q, want %q", loc, resp.Header.Get("Range"), want)
	}
	next := resp.Header.Get("Location")
	if next == "" {
		return "", fmt.Errorf("PATCH %s: 202 without Location", loc)
	}
	return next, nil
}

// pushChunked: POST, PATCH chunks with Content-Range, then PUT with the
// digest; with lastInPut, the last chunk rides on the PUT.
func (c *httpReg) pushChunked(ctx context.Context, repo string, data []byte, d digest.Digest, chunk int, lastInPut bool, session func(id string)) error {
	loc, id, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	session(id)
	var off int
	for {
		n := min(chunk, len(data)-off)
		if n == 0 || (lastInPut && off+n == len(data)) {
			break
		}
		if loc, err = c.patchChunk(ctx, loc, int64(off), data[off:off+n]); err != nil {
			return err
		}
		off += n
	}
	var hdr http.Header
	var body []byte
	if off < len(data) {
		hdr = crOctet()
		hdr.Set("Content-Range", fmt.Sprintf("%d-%d", off, len(data)-1))
		body = data[off:]
	}
	resp, _, err := c.expect(ctx, http.StatusCreated, "PUT", crWithQuery(loc, "digest="+d.String()), hdr, body)
	if err != nil {
		return err
	}
	return crCheckCreated(resp, d)
}

// putManifest pushes a manifest by tag or digest and returns its digest.
func (c *httpReg) putManifest(ctx context.Context, repo, ref, mediaType string, body []byte) (digest.Digest, error) {
	resp, _, err := c.expect(ctx, http.StatusCreated, "PUT", "/v2/"+repo+"/manifests/"+ref, http.Header{"Content-Type": {mediaType}}, body)
	if err != nil {
		return "", err
	}
	want := digest.FromBytes(body)
	if got := resp.Header.Get("Docker-Content-Digest"); got != want.String() {
		return "", fmt.Errorf("PUT manifest %s:%s: Docker-Content-Digest %q, want %s", repo, ref, got, want)
	}
	return want, nil
}

// getBlobDigest downloads a blob, hashing it as it streams, and returns the
// digest of what arrived (with d's algorithm) and its size.
func (c *httpReg) getBlobDigest(ctx context.Context, repo string, d digest.Digest) (digest.Digest, int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.url("/v2/"+repo+"/blobs/"+d.String()), nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", 0, &httpRegStatusError{"GET", req.URL.Path, resp.StatusCode, string(b)}
	}
	v := d.Algorithm().Digester()
	n, err := io.Copy(v.Hash(), resp.Body)
	if err != nil {
		return "", n, fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	return v.Digest(), n, nil
}

// ---------------------------------------------------------------------------
// Image building.

type crDescriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
}

func crImageManifest(config crDescriptor, layers []crDescriptor) []byte {
	if layers == nil {
		layers = []crDescriptor{}
	}
	b, err := json.Marshal(struct {
		SchemaVersion int            `json:"schemaVersion"`
		MediaType     string         `json:"mediaType"`
		Config        crDescriptor   `json:"config"`
		Layers        []crDescriptor `json:"layers"`
	}{2, mtOCIManifest, config, layers})
	if err != nil {
		panic(err)
	}
	return b
}

func crImageConfig(note string, layers []crDescriptor) []byte {
	ids := make([]string, 0, len(layers))
	for _, l := range layers {
		ids = append(ids, l.Digest.String())
	}
	b, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": ids},
		"config":       map[string]any{"Labels": map[string]string{"berth.test": note}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func crFillRandom(rng *rand.Rand, b []byte) {
	var tmp [8]byte
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(tmp[:], rng.Uint64())
		copy(b[i:], tmp[:])
	}
}

func crRandomBlob(rng *rand.Rand, size int) ([]byte, digest.Digest) {
	b := make([]byte, size)
	crFillRandom(rng, b)
	return b, digest.FromBytes(b)
}

// ---------------------------------------------------------------------------
// Looking at the data directory directly.

func crBlobFilePath(dataDir string, d digest.Digest) string {
	enc := d.Encoded()
	return filepath.Join(dataDir, "blobs", "blobs", string(d.Algorithm()), enc[:2], enc)
}

// crStagingFiles lists the files under <data>/blobs/uploads with their sizes.
func crStagingFiles(t *testing.T, dataDir string) map[string]int64 {
	t.Helper()
	dir := filepath.Join(dataDir, "blobs", "uploads")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list staging files: %v", err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("stat staging file %s: %v", e.Name(), err)
		}
		out[e.Name()] = fi.Size()
	}
	return out
}

// crCheckBlobFiles hashes every file under <data>/blobs/blobs and checks it
// against the digest its path names: no partial blob may ever be visible.
func crCheckBlobFiles(t *testing.T, dataDir string) int {
	t.Helper()
	root := filepath.Join(dataDir, "blobs", "blobs")
	var paths []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	var mu sync.Mutex
	var bad []string
	work := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for p := range work {
				if msg := crCheckBlobFile(root, p); msg != "" {
					mu.Lock()
					bad = append(bad, msg)
					mu.Unlock()
				}
			}
		})
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	sort.Strings(bad)
	for i, msg := range bad {
		if i == 20 {
			t.Errorf("... and %d more bad blob files", len(bad)-20)
			break
		}
		t.Error(msg)
	}
	return len(paths)
}

func crCheckBlobFile(root, p string) string {
	rel, _ := filepath.Rel(root, p)
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != 3 {
		return fmt.Sprintf("blob store holds %s, which is not at <alg>/<2hex>/<hex>", rel)
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[0]), parts[2])
	if err := d.Validate(); err != nil || parts[2][:2] != parts[1] {
		return fmt.Sprintf("blob store holds %s, which does not name a blob: %v", rel, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Sprintf("open blob file %s: %v", rel, err)
	}
	defer f.Close()
	v := d.Algorithm().Digester()
	n, err := io.Copy(v.Hash(), f)
	if err != nil {
		return fmt.Sprintf("read blob file %s: %v", rel, err)
	}
	if v.Digest() != d {
		return fmt.Sprintf("blob file %s (%d bytes) hashes to %s: a partial or corrupt blob is visible", rel, n, v.Digest())
	}
	return ""
}

// crOpenMetaDB opens <data>/berth.db read-only.
func crOpenMetaDB(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.ToSlash(filepath.Join(dataDir, "berth.db")) + "?mode=ro&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("open berth.db: %v", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		t.Fatalf("open berth.db: %v", err)
	}
	return db
}

func crQueryStrings(db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func crMetaTables(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	names, err := crQueryStrings(db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatalf("list tables of berth.db: %v", err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// crCheckMetaDB checks that berth.db is sound and that every blob it links
// has its file in the blob store. It returns the upload sessions it holds
// (id → repository name).
func crCheckMetaDB(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	db := crOpenMetaDB(t, dataDir)
	defer db.Close()
	tables := crMetaTables(t, db)
	for _, want := range []string{"repositories", "blobs", "repo_blobs", "manifests", "tags", "uploads"} {
		if !tables[want] {
			t.Errorf("berth.db has no table %q (tables: %v)", want, tables)
		}
	}

	res, err := crQueryStrings(db, `PRAGMA integrity_check`)
	if err != nil {
		t.Errorf("PRAGMA integrity_check: %v", err)
	} else if len(res) != 1 || res[0] != "ok" {
		t.Errorf("PRAGMA integrity_check: %q", res)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Errorf("PRAGMA foreign_key_check: %v", err)
	} else {
		var violations []string
		for rows.Next() {
			var table, parent string
			var rowid, fkid sql.NullInt64
			if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
				t.Errorf("PRAGMA foreign_key_check: %v", err)
				break
			}
			violations = append(violations, fmt.Sprintf("%s row %d -> %s", table, rowid.Int64, parent))
		}
		rows.Close()
		if len(violations) > 0 {
			t.Errorf("berth.db has %d foreign key violations, e.g. %v", len(violations), violations[:min(5, len(violations))])
		}
	}

	// Every blob the metadata knows or links must be in the blob store.
	linked := map[string]int64{}
	if tables["blobs"] {
		rows, err := db.Query(`SELECT digest, size FROM blobs`)
		if err != nil {
			t.Errorf("read blobs: %v", err)
		} else {
			for rows.Next() {
				var d string
				var size int64
				if err := rows.Scan(&d, &size); err != nil {
					t.Errorf("read blobs: %v", err)
					break
				}
				linked[d] = size
			}
			rows.Close()
		}
	}
	for _, x := range []struct{ table, query string }{
		{"repo_blobs", `SELECT DISTINCT digest FROM repo_blobs`},
		{"manifest_refs", `SELECT DISTINCT ref_digest FROM manifest_refs WHERE kind = 'blob'`},
	} {
		if !tables[x.table] {
			continue
		}
		ds, err := crQueryStrings(db, x.query)
		if err != nil {
			t.Errorf("%s: %v", x.query, err)
			continue
		}
		for _, d := range ds {
			if _, ok := linked[d]; !ok {
				linked[d] = -1
			}
		}
	}
	missing := 0
	for ds, size := range linked {
		d, err := digest.Parse(ds)
		if err != nil {
			t.Errorf("berth.db links a blob with the invalid digest %q", ds)
			continue
		}
		fi, err := os.Stat(crBlobFilePath(dataDir, d))
		switch {
		case err != nil:
			missing++
			if missing <= 10 {
				t.Errorf("berth.db links blob %s, but the blob store has no file for it: %v", d, err)
			}
		case size >= 0 && fi.Size() != size:
			t.Errorf("berth.db says blob %s has %d bytes; its file has %d", d, size, fi.Size())
		}
	}
	if missing > 10 {
		t.Errorf("... %d linked blobs missing in all", missing)
	}

	sessions := map[string]string{}
	if tables["uploads"] && tables["repositories"] {
		rows, err := db.Query(`SELECT u.id, r.name FROM uploads u JOIN repositories r ON r.id = u.repo_id`)
		if err != nil {
			t.Errorf("read uploads: %v", err)
		} else {
			for rows.Next() {
				var id, name string
				if err := rows.Scan(&id, &name); err != nil {
					t.Errorf("read uploads: %v", err)
					break
				}
				sessions[id] = name
			}
			rows.Close()
		}
	}
	return sessions
}

// crCheckStaging checks that every staging file belongs to an upload session
// that the server still answers for, and holds at least the bytes the
// session counts. known maps the session ids the clients started to their
// repositories.
func crCheckStaging(t *testing.T, ctx context.Context, c *httpReg, dataDir string, sessions, known map[string]string) {
	t.Helper()
	for id, size := range crStagingFiles(t, dataDir) {
		repo, ok := sessions[id]
		if !ok {
			t.Errorf("staging file uploads/%s (%d bytes) is orphaned: no upload session in berth.db owns it", id, size)
			continue
		}
		if kr, ok := known[id]; ok && kr != repo {
			t.Errorf("upload %s was started in %s but berth.db has it in %s", id, kr, repo)
		}
		resp, body, err := c.do(ctx, "GET", "/v2/"+repo+"/blobs/uploads/"+id, nil, nil)
		if err != nil {
			t.Errorf("GET upload %s: %v", id, err)
			continue
		}
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("staging file uploads/%s is orphaned: GET /v2/%s/blobs/uploads/%s answers %d %s", id, repo, id, resp.StatusCode, body)
			continue
		}
		rng := resp.Header.Get("Range")
		end, err := strconv.ParseInt(strings.TrimPrefix(rng, "0-"), 10, 64)
		if err != nil || !strings.HasPrefix(rng, "0-") {
			t.Errorf("GET upload %s: Range %q", id, rng)
			continue
		}
		if offset := end + 1; end > 0 && size < offset {
			t.Errorf("upload %s counts %d bytes but its staging file holds only %d", id, offset, size)
		}
	}
}

// ---------------------------------------------------------------------------
// The crash test.

type crAckedBlob struct {
	repo string
	size int64
}

type crAckedManifest struct {
	repo string
	d    digest.Digest
	body []byte
}

type crTagKey struct{ repo, tag string }

type crTagState struct {
	acked   digest.Digest   // last acknowledged push, "" if none
	pending []digest.Digest // pushes sent after it, not acknowledged
}

// crashLedger is what the server acknowledged, across all rounds.
type crashLedger struct {
	mu        sync.Mutex
	blobs     map[digest.Digest]crAckedBlob
	manifests []crAckedManifest
	tags      map[crTagKey]*crTagState
	sessions  map[string]string // upload id → repository
}

func (l *crashLedger) session(repo string) func(string) {
	return func(id string) {
		l.mu.Lock()
		l.sessions[id] = repo
		l.mu.Unlock()
	}
}

func (l *crashLedger) ackBlob(repo string, d digest.Digest, size int) {
	l.mu.Lock()
	l.blobs[d] = crAckedBlob{repo, int64(size)}
	l.mu.Unlock()
}

func (l *crashLedger) sendManifest(k crTagKey, d digest.Digest) {
	l.mu.Lock()
	st := l.tags[k]
	if st == nil {
		st = &crTagState{}
		l.tags[k] = st
	}
	st.pending = append(st.pending, d)
	l.mu.Unlock()
}

func (l *crashLedger) ackManifest(k crTagKey, d digest.Digest, body []byte) {
	l.mu.Lock()
	l.manifests = append(l.manifests, crAckedManifest{k.repo, d, body})
	st := l.tags[k]
	st.acked, st.pending = d, nil
	l.mu.Unlock()
}

// crashBlobSize is log-uniform from 2 KiB to 6 MiB.
func crashBlobSize(rng *rand.Rand) int {
	lo, hi := math.Log(2<<10), math.Log(6<<20)
	return int(math.Exp(lo + rng.Float64()*(hi-lo)))
}

// crashClient pushes images until it fails; after the kill, failing is
// expected.
func crashClient(ctx context.Context, t *testing.T, c *httpReg, l *crashLedger, killed *atomic.Bool, seed uint64, repo, tag string) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fail := func(what string, err error) {
		if !killed.Load() && ctx.Err() == nil {
			t.Errorf("client %s:%s before the kill: %s: %v", repo, tag, what, err)
		}
	}
	for iter := 0; ctx.Err() == nil; iter++ {
		var layers []crDescriptor
		for range 1 + rng.IntN(3) {
			size := crashBlobSize(rng)
			data, d := crRandomBlob(rng, size)
			var err error
			method := rng.IntN(4)
			switch method {
			case 0:
				err = c.pushMonolithic(ctx, repo, data, d)
			case 1:
				err = c.pushPostPut(ctx, repo, data, d, l.session(repo))
			case 2, 3:
				chunk := 64<<10 + rng.IntN(1<<20)
				err = c.pushChunked(ctx, repo, data, d, chunk, method == 3, l.session(repo))
			}
			if err != nil {
				fail(fmt.Sprintf("push blob %s (%d bytes, method %d)", d, size, method), err)
				return
			}
			l.ackBlob(repo, d, size)
			layers = append(layers, crDescriptor{mtOCILayer, d, int64(size)})
		}
		cfg := crImageConfig(fmt.Sprintf("%s %s %d %d", repo, tag, seed, iter), layers)
		cd := digest.FromBytes(cfg)
		if err := c.pushMonolithic(ctx, repo, cfg, cd); err != nil {
			fail("push config", err)
			return
		}
		l.ackBlob(repo, cd, len(cfg))
		m := crImageManifest(crDescriptor{mtOCIConfig, cd, int64(len(cfg))}, layers)
		md := digest.FromBytes(m)
		k := crTagKey{repo, tag}
		l.sendManifest(k, md)
		if _, err := c.putManifest(ctx, repo, tag, mtOCIManifest, m); err != nil {
			fail("push manifest", err)
			return
		}
		l.ackManifest(k, md, m)
	}
}

// crVerifyAcked checks that everything acknowledged so far is served intact.
func crVerifyAcked(t *testing.T, ctx context.Context, c *httpReg, l *crashLedger) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()

	type job struct {
		d digest.Digest
		b crAckedBlob
	}
	work := make(chan job)
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 8 {
		wg.Go(func() {
			for j := range work {
				got, n, err := c.getBlobDigest(ctx, j.b.repo, j.d)
				switch {
				case err != nil:
					if bad.Add(1) <= 20 {
						t.Errorf("acknowledged blob %s in %s (%d bytes) is not readable: %v", j.d, j.b.repo, j.b.size, err)
					}
				case got != j.d || n != j.b.size:
					if bad.Add(1) <= 20 {
						t.Errorf("acknowledged blob %s in %s: got %d bytes hashing to %s, want %d bytes", j.d, j.b.repo, n, got, j.b.size)
					}
				}
			}
		})
	}
	for d, b := range l.blobs {
		work <- job{d, b}
	}
	close(work)
	wg.Wait()
	if n := bad.Load(); n > 20 {
		t.Errorf("... %d acknowledged blobs bad in all", n)
	}

	accept := http.Header{"Accept": {mtOCIManifest + ", " + mtOCIIndex}}
	for _, m := range l.manifests {
		resp, body, err := c.do(ctx, "GET", "/v2/"+m.repo+"/manifests/"+m.d.String(), accept, nil)
		switch {
		case err != nil:
			t.Errorf("GET acknowledged manifest %s@%s: %v", m.repo, m.d, err)
		case resp.StatusCode != http.StatusOK:
			t.Errorf("GET acknowledged manifest %s@%s: %d %s", m.repo, m.d, resp.StatusCode, body)
		case !bytes.Equal(body, m.body):
			t.Errorf("GET acknowledged manifest %s@%s: bytes differ from the ones pushed", m.repo, m.d)
		case resp.Header.Get("Content-Type") != mtOCIManifest:
			t.Errorf("GET manifest %s@%s: Content-Type %q", m.repo, m.d, resp.Header.Get("Content-Type"))
		}
	}
	for k, st := range l.tags {
		resp, body, err := c.do(ctx, "GET", "/v2/"+k.repo+"/manifests/"+k.tag, accept, nil)
		if err != nil {
			t.Errorf("GET %s:%s: %v", k.repo, k.tag, err)
			continue
		}
		allowed := append([]digest.Digest{}, st.pending...)
		if st.acked != "" {
			allowed = append(allowed, st.acked)
		}
		if resp.StatusCode == http.StatusNotFound && st.acked == "" {
			continue // never acknowledged, never applied
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s:%s (last acknowledged %s): %d %s", k.repo, k.tag, st.acked, resp.StatusCode, body)
			continue
		}
		got := digest.FromBytes(body)
		ok := false
		for _, d := range allowed {
			ok = ok || d == got
		}
		if !ok {
			t.Errorf("tag %s:%s points at %s; the last acknowledged push was %s and only %v were sent after it", k.repo, k.tag, got, st.acked, st.pending)
		}
		if h := resp.Header.Get("Docker-Content-Digest"); h != got.String() {
			t.Errorf("GET %s:%s: Docker-Content-Digest %q for bytes hashing to %s", k.repo, k.tag, h, got)
		}
	}
}

// crFreshPushPull pushes a small image and pulls it back.
func crFreshPushPull(t *testing.T, ctx context.Context, c *httpReg, repo string, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	data, d := crRandomBlob(rng, 300<<10+rng.IntN(100<<10))
	if err := c.pushChunked(ctx, repo, data, d, 128<<10, false, func(string) {}); err != nil {
		t.Fatalf("fresh chunked push into %s: %v", repo, err)
	}
	layers := []crDescriptor{{mtOCILayer, d, int64(len(data))}}
	cfg := crImageConfig("fresh "+repo, layers)
	cd := digest.FromBytes(cfg)
	if err := c.pushMonolithic(ctx, repo, cfg, cd); err != nil {
		t.Fatalf("fresh push of config into %s: %v", repo, err)
	}
	m := crImageManifest(crDescriptor{mtOCIConfig, cd, int64(len(cfg))}, layers)
	md, err := c.putManifest(ctx, repo, "fresh", mtOCIManifest, m)
	if err != nil {
		t.Fatalf("fresh manifest push into %s: %v", repo, err)
	}
	_, body, err := c.expect(ctx, http.StatusOK, "GET", "/v2/"+repo+"/manifests/fresh", http.Header{"Accept": {mtOCIManifest}}, nil)
	if err != nil || !bytes.Equal(body, m) {
		t.Fatalf("fresh pull of %s:fresh (%s): %v; same bytes: %v", repo, md, err, bytes.Equal(body, m))
	}
	_, blob, err := c.expect(ctx, http.StatusOK, "GET", "/v2/"+repo+"/blobs/"+d.String(), nil, nil)
	if err != nil || !bytes.Equal(blob, data) {
		t.Fatalf("fresh pull of blob %s from %s: %v; same bytes: %v", d, repo, err, bytes.Equal(blob, data))
	}
}

func TestCrashDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs without -short")
	}
	const (
		rounds  = 3
		clients = 32
		repos   = 8
	)
	ctx := withTimeout(t, 3*time.Minute)
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	b := startBerth(t, "", "--auto-create-repositories")
	l := &crashLedger{
		blobs:    map[digest.Digest]crAckedBlob{},
		tags:     map[crTagKey]*crTagState{},
		sessions: map[string]string{},
	}
	for round := range rounds {
		c := newHTTPReg(t, b)
		cctx, cancel := context.WithCancel(ctx)
		var killed atomic.Bool
		var wg sync.WaitGroup
		blobsBefore, manifestsBefore := len(l.blobs), len(l.manifests)
		for i := range clients {
			repo := fmt.Sprintf("crash/repo%d", i%repos)
			tag := fmt.Sprintf("r%d-c%d", round, i)
			s := rng.Uint64()
			wg.Go(func() { crashClient(cctx, t, c, l, &killed, s, repo, tag) })
		}
		// 1–2 s of traffic, and at least a few images acknowledged, so
		// that a slow machine still kills mid-traffic with something to
		// verify.
		traffic := time.Duration(1000+rng.IntN(1000)) * time.Millisecond
		began := time.Now()
		time.Sleep(traffic)
		for deadline := began.Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			l.mu.Lock()
			n := len(l.manifests) - manifestsBefore
			l.mu.Unlock()
			if n >= 3 {
				break
			}
		}
		traffic = time.Since(began).Round(time.Millisecond)
		pid := b.PID()
		killed.Store(true)
		b.Kill()
		cancel()
		wg.Wait()
		c.close()
		t.Logf("round %d: killed pid %d after %v; acknowledged %d blobs and %d manifests this round",
			round, pid, traffic, len(l.blobs)-blobsBefore, len(l.manifests)-manifestsBefore)
		if len(l.blobs) == blobsBefore || len(l.manifests) == manifestsBefore {
			t.Errorf("round %d: in %v, %d blobs and %d manifests were acknowledged: the server stalled or refused everything, and the test proves nothing",
				round, traffic, len(l.blobs)-blobsBefore, len(l.manifests)-manifestsBefore)
		}
		if t.Failed() {
			t.Fatalf("server log (tail):\n%s", tail(b.Log(), 40))
		}

		// The state the crash left, before any recovery runs.
		files := crCheckBlobFiles(t, b.DataDir)

		b.Restart()
		c = newHTTPReg(t, b)
		sessions := crCheckMetaDB(t, b.DataDir)
		l.mu.Lock()
		known := make(map[string]string, len(l.sessions))
		for id, r := range l.sessions {
			known[id] = r
		}
		l.mu.Unlock()
		crCheckStaging(t, ctx, c, b.DataDir, sessions, known)
		crVerifyAcked(t, ctx, c, l)
		crFreshPushPull(t, ctx, c, fmt.Sprintf("crash/fresh%d", round), rng.Uint64())
		t.Logf("round %d: %d blob files hash right, %d staging files, %d sessions in berth.db, %d blobs and %d manifests verified",
			round, files, len(crStagingFiles(t, b.DataDir)), len(sessions), len(l.blobs), len(l.manifests))
		c.close()
		if t.Failed() {
			t.Fatalf("stopping after round %d; server log (tail):\n%s", round, tail(b.Log(), 40))
		}
	}
	if strings.Contains(b.Log(), "handler panic") {
		t.Errorf("the server panicked:\n%s", b.Log())
	}
	t.Logf("crash test took %v", time.Since(start))
}

// ---------------------------------------------------------------------------
// Graceful shutdown.

// crSlowBody feeds a request body in steps that the test controls.
type crSlowBody struct {
	pr   *io.PipeReader
	pw   *io.PipeWriter
	data []byte
	sent int
}

func crNewSlowBody(data []byte) *crSlowBody {
	pr, pw := io.Pipe()
	return &crSlowBody{pr: pr, pw: pw, data: data}
}

// send writes up to n more bytes.
func (s *crSlowBody) send(n int) error {
	n = min(n, len(s.data)-s.sent)
	_, err := s.pw.Write(s.data[s.sent : s.sent+n])
	s.sent += n
	return err
}

// finish sends the rest in small steps and closes the body.
func (s *crSlowBody) finish(step int, pause time.Duration) error {
	for s.sent < len(s.data) {
		if err := s.send(step); err != nil {
			return err
		}
		time.Sleep(pause)
	}
	return s.pw.Close()
}

type crAsyncResult struct {
	resp *http.Response
	body []byte
	err  error
}

func (c *httpReg) doAsync(method, loc string, hdr http.Header, body *crSlowBody) <-chan crAsyncResult {
	out := make(chan crAsyncResult, 1)
	req, err := http.NewRequest(method, c.url(loc), body.pr)
	if err != nil {
		out <- crAsyncResult{err: err}
		return out
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.ContentLength = int64(len(body.data))
	go func() {
		resp, err := c.hc.Do(req)
		if err != nil {
			out <- crAsyncResult{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		out <- crAsyncResult{resp, b, err}
	}()
	return out
}

// crWaitStaged waits until the staging file of upload id holds at least n
// bytes: the server is streaming the body.
func crWaitStaged(t *testing.T, dataDir, id string, n int64) {
	t.Helper()
	p := filepath.Join(dataDir, "blobs", "uploads", id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Stat(p); err == nil && fi.Size() >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not stage %d bytes of upload %s in time", n, id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGracefulShutdown(t *testing.T) {
	ctx := withTimeout(t, 2*time.Minute)
	b := startBerth(t, "", "--auto-create-repositories")
	c := newHTTPReg(t, b)
	defer c.close()
	const repo = "graceful/app"
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))

	// A: a chunk streamed by PATCH; B: the last chunk streamed by the PUT
	// that completes its upload.
	dataA, dA := crRandomBlob(rng, 3<<20)
	dataB, dB := crRandomBlob(rng, 2<<20+12345)
	locA, idA, err := c.startUpload(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	locB, idB, err := c.startUpload(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	bodyA, bodyB := crNewSlowBody(dataA), crNewSlowBody(dataB)
	hA := crOctet()
	hA.Set("Content-Range", fmt.Sprintf("0-%d", len(dataA)-1))
	resA := c.doAsync("PATCH", locA, hA, bodyA)
	hB := crOctet()
	hB.Set("Content-Range", fmt.Sprintf("0-%d", len(dataB)-1))
	resB := c.doAsync("PUT", crWithQuery(locB, "digest="+dB.String()), hB, bodyB)
	// The store writes an upload in chunks of up to 1 MiB, so more than
	// that is sent before waiting to see bytes staged.
	if err := bodyA.send(1536 << 10); err != nil {
		t.Fatal(err)
	}
	if err := bodyB.send(1280 << 10); err != nil {
		t.Fatal(err)
	}
	crWaitStaged(t, b.DataDir, idA, 1<<20)
	crWaitStaged(t, b.DataDir, idB, 1<<20)

	if err := syscall.Kill(b.PID(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutting down: the listener is closed (or the log says so).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if strings.Contains(b.Log(), "shutting down") {
			break
		}
		conn, err := net.DialTimeout("tcp", b.Host, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start shutting down after SIGTERM:\n%s", b.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case <-b.done:
		t.Fatalf("the server exited with uploads in flight:\n%s", b.Log())
	default:
	}

	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { errA = bodyA.finish(128<<10, 20*time.Millisecond) })
	wg.Go(func() { errB = bodyB.finish(128<<10, 20*time.Millisecond) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("streaming the bodies after SIGTERM: %v, %v", errA, errB)
	}
	rA, rB := <-resA, <-resB
	if rA.err != nil {
		t.Errorf("PATCH in flight at SIGTERM failed: %v", rA.err)
	} else if rA.resp.StatusCode != http.StatusAccepted || rA.resp.Header.Get("Range") != fmt.Sprintf("0-%d", len(dataA)-1) {
		t.Errorf("PATCH in flight at SIGTERM: %d Range %q %s, want 202 Range 0-%d", rA.resp.StatusCode, rA.resp.Header.Get("Range"), rA.body, len(dataA)-1)
	}
	if rB.err != nil {
		t.Errorf("PUT in flight at SIGTERM failed: %v", rB.err)
	} else if rB.resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT in flight at SIGTERM: %d %s, want 201", rB.resp.StatusCode, rB.body)
	}

	exit := make(chan int, 1)
	go func() { exit <- b.ExitCode() }()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit code after SIGTERM is %d, want 0:\n%s", code, tail(b.Log(), 30))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not exit after its requests finished:\n%s", tail(b.Log(), 30))
	}
	if t.Failed() {
		t.FailNow()
	}

	b.Restart()
	c2 := newHTTPReg(t, b)
	defer c2.close()
	// A's session survived with all its bytes; completing it makes the blob.
	resp, body, err := c2.expect(ctx, http.StatusNoContent, "GET", "/v2/"+repo+"/blobs/uploads/"+idA, nil, nil)
	if err != nil {
		t.Fatalf("upload session %s after restart: %v", idA, err)
	}
	if got := resp.Header.Get("Range"); got != fmt.Sprintf("0-%d", len(dataA)-1) {
		t.Errorf("upload %s after restart: Range %q, want 0-%d (%s)", idA, got, len(dataA)-1, body)
	}
	if _, _, err := c2.expect(ctx, http.StatusCreated, "PUT", crWithQuery("/v2/"+repo+"/blobs/uploads/"+idA, "digest="+dA.String()), nil, nil); err != nil {
		t.Errorf("completing upload %s after restart: %v", idA, err)
	}
	for _, x := range []struct {
		d    digest.Digest
		size int
	}{{dA, len(dataA)}, {dB, len(dataB)}} {
		got, n, err := c2.getBlobDigest(ctx, repo, x.d)
		if err != nil || got != x.d || n != int64(x.size) {
			t.Errorf("blob %s after restart: %v, %d bytes hashing to %s", x.d, err, n, got)
		}
	}
	if staged := crStagingFiles(t, b.DataDir); len(staged) != 0 {
		t.Errorf("staging files left after both uploads completed: %v", staged)
	}
}
