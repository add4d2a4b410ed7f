package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// badRow is one request that Berth must refuse, and how.
type badRow struct {
	name   string
	method string
	target string // request-target, sent exactly as written
	header http.Header
	body   []byte
	// raw, when set, is sent instead of a request built from the fields
	// above, and the write side is closed after it.
	raw []byte
	// status is the expected HTTP status; codes the acceptable OCI error
	// codes (nil: the body is not checked, as for HEAD); words the message
	// must contain at least one of (case-insensitive).
	status int
	codes  []string
	words  []string
	check  func(t *testing.T, resp *http.Response, body []byte)
}

// buildRawRequest writes an HTTP/1.1 request without any cleaning of the
// target.
func buildRawRequest(host, method, target string, hdr http.Header, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range hdr[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if hdr.Get("Content-Length") == "" && hdr.Get("Transfer-Encoding") == "" &&
		(body != nil || method == "POST" || method == "PUT" || method == "PATCH") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// rawExchange sends request bytes over a fresh connection while reading the
// answer, so that a server answering before it read everything is seen.
func rawExchange(host, method string, req []byte, closeWrite bool) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		conn.Write(req) // the server may answer and hang up first
		if closeWrite {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

type badErrorBody struct {
	Errors []struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"errors"`
}

// checkOCIError checks an OCI error body: one of the codes, and a message
// that says something specific.
func checkOCIError(t *testing.T, resp *http.Response, body []byte, codes, words []string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error body has Content-Type %q, want application/json: %s", ct, body)
	}
	var eb badErrorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Errorf("error body is not JSON (%v): %q", err, body)
		return
	}
	if len(eb.Errors) == 0 {
		t.Errorf("error body lists no errors: %s", body)
		return
	}
	e := eb.Errors[0]
	if !slices.Contains(codes, e.Code) {
		t.Errorf("error code %q, want %s: %s", e.Code, strings.Join(codes, " or "), body)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Errorf("error %s has no message: %s", e.Code, body)
		return
	}
	if len(words) == 0 {
		return
	}
	msg := strings.ToLower(e.Message)
	for _, w := range words {
		if strings.Contains(msg, strings.ToLower(w)) {
			return
		}
	}
	t.Errorf("error message %q says nothing specific: want it to mention one of %q", e.Message, words)
}

func badJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBadInput(t *testing.T) {
	ctx := withTimeout(t, 3*time.Minute)
	b := startBerth(t, "", "--auto-create-repositories")
	c := newHTTPReg(t, b)
	defer c.close()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	const good = "bad/good"

	// A real image to refer to.
	layer, layerD := crRandomBlob(rng, 4096)
	if err := c.pushMonolithic(ctx, good, layer, layerD); err != nil {
		t.Fatal(err)
	}
	layers := []crDescriptor{{mtOCILayer, layerD, int64(len(layer))}}
	cfg := crImageConfig("bad input", layers)
	cfgD := digest.FromBytes(cfg)
	if err := c.pushMonolithic(ctx, good, cfg, cfgD); err != nil {
		t.Fatal(err)
	}
	goodManifest := crImageManifest(crDescriptor{mtOCIConfig, cfgD, int64(len(cfg))}, layers)
	goodMD, err := c.putManifest(ctx, good, "v1", mtOCIManifest, goodManifest)
	if err != nil {
		t.Fatal(err)
	}

	// Upload sessions some rows need. noDigest and order stay open on
	// purpose; mismatch may be ended by its row.
	_, noDigest, err := c.startUpload(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	orderLoc, order, err := c.startUpload(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.patchChunk(ctx, orderLoc, 0, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	mismatchLoc, mismatch, err := c.startUpload(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.patchChunk(ctx, mismatchLoc, 0, []byte("some bytes")); err != nil {
		t.Fatal(err)
	}
	leftOpen := map[string]bool{noDigest: true, order: true}
	sessions := map[string]bool{noDigest: true, order: true, mismatch: true}

	// Manifest bodies.
	manifest := func(edit func(m map[string]any)) []byte {
		m := map[string]any{
			"schemaVersion": 2,
			"mediaType":     mtOCIManifest,
			"config":        map[string]any{"mediaType": mtOCIConfig, "digest": cfgD.String(), "size": len(cfg)},
			"layers":        []any{map[string]any{"mediaType": mtOCILayer, "digest": layerD.String(), "size": len(layer)}},
		}
		if edit != nil {
			edit(m)
		}
		return badJSON(m)
	}
	index := func(edit func(m map[string]any)) []byte {
		m := map[string]any{
			"schemaVersion": 2,
			"mediaType":     mtOCIIndex,
			"manifests":     []any{map[string]any{"mediaType": mtOCIManifest, "digest": goodMD.String(), "size": len(goodManifest)}},
		}
		if edit != nil {
			edit(m)
		}
		return badJSON(m)
	}
	neverPushed := digest.FromString("a blob nobody pushed")
	neverPushedManifest := digest.FromString("a manifest nobody pushed")
	huge := manifest(func(m map[string]any) { m["annotations"] = map[string]string{"pad": strings.Repeat("x", 4<<20)} })
	var hugeChunked bytes.Buffer
	for rest := huge; len(rest) > 0; {
		n := min(64<<10, len(rest))
		fmt.Fprintf(&hugeChunked, "%x\r\n", n)
		hugeChunked.Write(rest[:n])
		hugeChunked.WriteString("\r\n")
		rest = rest[n:]
	}
	hugeChunked.WriteString("0\r\n\r\n")

	// The truncated monolithic upload: 10 of 1000 declared bytes.
	truncated, truncatedD := crRandomBlob(rng, 1000)
	truncatedRaw := append([]byte(fmt.Sprintf("POST /v2/%s/blobs/uploads/?digest=%s HTTP/1.1\r\nHost: %s\r\n"+
		"Authorization: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n", good, truncatedD, b.Host, b.AuthHeader(t))), truncated[:10]...)
	wrongBody := []byte("the bytes actually sent")
	wrongD := digest.FromString("the bytes the digest was computed over")

	ct := func(mt string) http.Header { return http.Header{"Content-Type": {mt}} }
	mct := ct(mtOCIManifest)
	tagN := 0
	badTag := func() string { tagN++; return fmt.Sprintf("/v2/%s/manifests/bad-%d", good, tagN) }
	long256, long257 := strings.Repeat("a", 256), strings.Repeat("a", 257)

	// noBlob checks that a blob is not visible in a repository.
	noBlob := func(repo string, ds ...digest.Digest) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, _ []byte) {
			for _, d := range ds {
				for _, m := range []string{"HEAD", "GET"} {
					resp, body, err := c.do(ctx, m, "/v2/"+repo+"/blobs/"+d.String(), nil, nil)
					if err != nil {
						t.Errorf("%s blob %s: %v", m, d, err)
						continue
					}
					if resp.StatusCode != http.StatusNotFound {
						t.Errorf("%s /v2/%s/blobs/%s after a refused upload: %d, want 404", m, repo, d, resp.StatusCode)
					} else if m == "GET" {
						checkOCIError(t, resp, body, []string{"BLOB_UNKNOWN", "NAME_UNKNOWN"}, nil)
					}
				}
			}
			// The refused upload left no staging file behind.
			deadline := time.Now().Add(3 * time.Second)
			for {
				var stray []string
				for id := range crStagingFiles(t, b.DataDir) {
					if !sessions[id] {
						stray = append(stray, id)
					}
				}
				if len(stray) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("staging files left by the refused upload: %v", stray)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	allow := func(t *testing.T, resp *http.Response, _ []byte) {
		if resp.Header.Get("Allow") == "" {
			t.Errorf("405 without an Allow header (RFC 9110 §15.5.6: the server MUST send one listing the methods it supports)")
		}
	}
	rangeHeaders := func(t *testing.T, resp *http.Response, _ []byte) {
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "/v2/"+good+"/blobs/uploads/"+order) {
			t.Errorf("416 Location %q, want the upload's URL", loc)
		}
		if r := resp.Header.Get("Range"); r != "0-9" {
			t.Errorf("416 Range %q, want 0-9 (what the upload holds)", r)
		}
	}
	sessionAlive := func(id string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, _ []byte) {
			if _, _, err := c.expect(ctx, http.StatusNoContent, "GET", "/v2/"+good+"/blobs/uploads/"+id, nil, nil); err != nil {
				t.Errorf("the session should survive this refusal: %v", err)
			}
		}
	}

	rows := []badRow{
		// --- malformed manifests
		{name: "manifest not JSON", method: "PUT", target: badTag(), header: mct, body: []byte("this is not json"),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"json"}},
		{name: "manifest empty body", method: "PUT", target: badTag(), header: mct, body: []byte{},
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"json", "empty"}},
		{name: "manifest JSON with trailing garbage", method: "PUT", target: badTag(), header: mct, body: append(manifest(nil), " trailing garbage"...),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"json", "after", "trailing"}},
		{name: "manifest JSON with a trailing brace", method: "PUT", target: badTag(), header: mct, body: append(manifest(nil), '}'),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"json", "after", "trailing"}},
		{name: "manifest JSON with a trailing bracket", method: "PUT", target: badTag(), header: mct, body: append(manifest(nil), ']'),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"json", "after", "trailing"}},
		{name: "manifest schemaVersion 1", method: "PUT", target: badTag(), header: mct, body: manifest(func(m map[string]any) { m["schemaVersion"] = 1 }),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"schemaVersion"}},
		{name: "manifest schemaVersion missing", method: "PUT", target: badTag(), header: mct, body: manifest(func(m map[string]any) { delete(m, "schemaVersion") }),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"schemaVersion"}},
		{name: "docker schema 1 manifest", method: "PUT", target: badTag(), header: ct("application/vnd.docker.distribution.manifest.v1+prettyjws"),
			body: badJSON(map[string]any{"schemaVersion": 1, "name": good, "tag": "x", "architecture": "amd64",
				"fsLayers": []any{map[string]string{"blobSum": layerD.String()}}, "history": []any{map[string]string{"v1Compatibility": "{}"}}}),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"schema 1", "schema1", "schemaVersion"}},
		{name: "image manifest without config", method: "PUT", target: badTag(), header: mct, body: manifest(func(m map[string]any) { delete(m, "config") }),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"config"}},
		{name: "config descriptor with invalid digest", method: "PUT", target: badTag(), header: mct,
			body: manifest(func(m map[string]any) {
				m["config"] = map[string]any{"mediaType": mtOCIConfig, "digest": "sha256:xyz", "size": len(cfg)}
			}),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"digest"}},
		{name: "layer with negative size", method: "PUT", target: badTag(), header: mct,
			body: manifest(func(m map[string]any) {
				m["layers"] = []any{map[string]any{"mediaType": mtOCILayer, "digest": layerD.String(), "size": -1}}
			}),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"negative", "size"}},
		{name: "layer without size", method: "PUT", target: badTag(), header: mct,
			body: manifest(func(m map[string]any) {
				m["layers"] = []any{map[string]any{"mediaType": mtOCILayer, "digest": layerD.String()}}
			}),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"size"}},
		{name: "index with layers", method: "PUT", target: badTag(), header: ct(mtOCIIndex),
			body: index(func(m map[string]any) {
				m["layers"] = []any{map[string]any{"mediaType": mtOCILayer, "digest": layerD.String(), "size": len(layer)}}
			}),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"layers"}},
		{name: "Content-Type does not match the body's mediaType", method: "PUT", target: badTag(), header: ct(mtOCIIndex), body: manifest(nil),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"mediaType", "Content-Type", "match"}},
		{name: "unknown manifest media type", method: "PUT", target: badTag(), header: ct("application/vnd.example.unknown+json"),
			body:   manifest(func(m map[string]any) { m["mediaType"] = "application/vnd.example.unknown+json" }),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"application/vnd.example.unknown+json", "media type", "not supported"}},
		{name: "unknown mediaType in the body, generic Content-Type", method: "PUT", target: badTag(), header: ct("application/json"),
			body:   manifest(func(m map[string]any) { m["mediaType"] = "application/vnd.example.unknown+json" }),
			status: 400, codes: []string{"MANIFEST_INVALID"}, words: []string{"application/vnd.example.unknown+json", "media type", "not supported"}},

		// --- manifests referring to what is not there
		{name: "manifest references a blob never pushed", method: "PUT", target: badTag(), header: mct,
			body: manifest(func(m map[string]any) {
				m["layers"] = []any{map[string]any{"mediaType": mtOCILayer, "digest": neverPushed.String(), "size": 123}}
			}),
			status: 400, codes: []string{"MANIFEST_BLOB_UNKNOWN"}, words: []string{neverPushed.Encoded()}},
		{name: "manifest with unknown blobs into a new repository", method: "PUT", target: "/v2/reject/missing-blob/manifests/v1", header: mct,
			body: manifest(func(m map[string]any) {
				m["layers"] = []any{map[string]any{"mediaType": mtOCILayer, "digest": neverPushed.String(), "size": 123}}
			}),
			status: 400, codes: []string{"MANIFEST_BLOB_UNKNOWN"}, words: []string{"blob"}},
		{name: "index references a manifest not in the repository", method: "PUT", target: badTag(), header: ct(mtOCIIndex),
			body: index(func(m map[string]any) {
				m["manifests"] = []any{map[string]any{"mediaType": mtOCIManifest, "digest": neverPushedManifest.String(), "size": 321}}
			}),
			status: 400, codes: []string{"MANIFEST_BLOB_UNKNOWN"}, words: []string{neverPushedManifest.Encoded()}},

		// --- manifest digests and sizes
		{name: "manifest PUT by a digest the body does not hash to", method: "PUT", target: "/v2/" + good + "/manifests/" + digest.FromString("other").String(),
			header: mct, body: manifest(nil),
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"hash", "digest"}},
		{name: "manifest over 4 MiB", method: "PUT", target: badTag(), header: mct, body: huge,
			status: 413, codes: []string{"MANIFEST_INVALID", "SIZE_INVALID"}, words: []string{"large", "limit"}},
		{name: "manifest over 4 MiB, chunked transfer encoding", method: "PUT", target: badTag(),
			header: http.Header{"Content-Type": {mtOCIManifest}, "Transfer-Encoding": {"chunked"}}, body: hugeChunked.Bytes(),
			status: 413, codes: []string{"MANIFEST_INVALID", "SIZE_INVALID"}, words: []string{"large", "limit"}},

		// --- blob digests
		{name: "monolithic blob POST with the wrong digest", method: "POST", target: "/v2/reject/wrong-digest/blobs/uploads/?digest=" + wrongD.String(),
			header: crOctet(), body: wrongBody,
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{wrongD.Encoded(), "hash"},
			check: noBlob("reject/wrong-digest", wrongD, digest.FromBytes(wrongBody))},
		{name: "blob POST digest sha256:zzz", method: "POST", target: "/v2/reject/digests/blobs/uploads/?digest=sha256:zzz",
			header: crOctet(), body: []byte("x"),
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"sha256:zzz", "invalid"}},
		{name: "blob POST digest md5", method: "POST", target: "/v2/reject/digests/blobs/uploads/?digest=md5:d41d8cd98f00b204e9800998ecf8427e",
			header: crOctet(), body: []byte("x"),
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"md5", "algorithm"}},
		{name: "blob POST sha256 digest of the wrong length", method: "POST", target: "/v2/reject/digests/blobs/uploads/?digest=sha256:" + strings.Repeat("a", 63),
			header: crOctet(), body: []byte("x"),
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"length", "invalid"}},
		{name: "blob GET with an invalid digest", method: "GET", target: "/v2/" + good + "/blobs/sha256:zzz",
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"sha256:zzz", "invalid"}},
		{name: "manifest GET with an invalid digest", method: "GET", target: "/v2/" + good + "/manifests/sha256:zzz",
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"sha256:zzz", "invalid"}},
		{name: "PUT completing an upload without ?digest=", method: "PUT", target: "/v2/" + good + "/blobs/uploads/" + noDigest,
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"digest"}, check: sessionAlive(noDigest)},
		{name: "PUT completing an upload with digest sha256:zzz", method: "PUT", target: "/v2/" + good + "/blobs/uploads/" + noDigest + "?digest=sha256:zzz",
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{"sha256:zzz", "invalid"}, check: sessionAlive(noDigest)},
		{name: "PUT completing an upload with the wrong digest", method: "PUT", target: mismatchLoc + "?digest=" + wrongD.String(),
			status: 400, codes: []string{"DIGEST_INVALID"}, words: []string{wrongD.Encoded()},
			check: func(t *testing.T, resp *http.Response, body []byte) {
				// The server may end the session (then its staging file
				// must go too) or keep it for the client to retry.
				r, b2, err := c.do(ctx, "GET", "/v2/"+good+"/blobs/uploads/"+mismatch, nil, nil)
				switch {
				case err != nil:
					t.Errorf("GET upload %s: %v", mismatch, err)
				case r.StatusCode == http.StatusNotFound:
					delete(sessions, mismatch)
				case r.StatusCode == http.StatusNoContent:
					leftOpen[mismatch] = true
				default:
					t.Errorf("GET upload %s after a digest mismatch: %d %s", mismatch, r.StatusCode, b2)
				}
				noBlob(good, wrongD, digest.FromString("some bytes"))(t, resp, body)
			}},

		// --- truncated upload
		{name: "monolithic POST with a body shorter than Content-Length", method: "POST", raw: truncatedRaw,
			target: "/v2/" + good + "/blobs/uploads/?digest=" + truncatedD.String() + " (Content-Length: 1000, 10 bytes sent, then FIN)",
			status: 400, codes: []string{"SIZE_INVALID", "BLOB_UPLOAD_INVALID"}, words: []string{"length", "size", "bytes", "short", "truncat", "incomplete"},
			check: noBlob(good, truncatedD)},

		// --- chunks out of order, unknown uploads
		{name: "PATCH chunk past the end of the upload", method: "PATCH", target: orderLoc,
			header: http.Header{"Content-Type": {"application/octet-stream"}, "Content-Range": {"20-29"}}, body: []byte("abcdefghij"),
			status: 416, codes: []string{"BLOB_UPLOAD_INVALID"}, words: []string{"byte", "offset", "range"}, check: rangeHeaders},
		{name: "PATCH chunk rewinding to 0", method: "PATCH", target: orderLoc,
			header: http.Header{"Content-Type": {"application/octet-stream"}, "Content-Range": {"0-9"}}, body: []byte("abcdefghij"),
			status: 416, codes: []string{"BLOB_UPLOAD_INVALID"}, words: []string{"byte", "offset", "range"}, check: rangeHeaders},
		{name: "PATCH Content-Range disagreeing with Content-Length", method: "PATCH", target: orderLoc,
			header: http.Header{"Content-Type": {"application/octet-stream"}, "Content-Range": {"10-19"}}, body: []byte("abc"),
			status: 416, codes: []string{"BLOB_UPLOAD_INVALID"}, words: []string{"Content-Length", "Content-Range"}, check: rangeHeaders},
		{name: "PATCH unknown upload id", method: "PATCH", target: "/v2/" + good + "/blobs/uploads/" + strings.Repeat("0", 32),
			header: http.Header{"Content-Type": {"application/octet-stream"}, "Content-Range": {"0-9"}}, body: []byte("abcdefghij"),
			status: 404, codes: []string{"BLOB_UPLOAD_UNKNOWN"}, words: []string{"upload"}},
		{name: "GET unknown upload id", method: "GET", target: "/v2/" + good + "/blobs/uploads/" + strings.Repeat("0", 32),
			status: 404, codes: []string{"BLOB_UPLOAD_UNKNOWN"}, words: []string{"upload"}},
		{name: "PUT unknown upload id", method: "PUT", target: "/v2/" + good + "/blobs/uploads/" + strings.Repeat("0", 32) + "?digest=" + layerD.String(),
			status: 404, codes: []string{"BLOB_UPLOAD_UNKNOWN"}, words: []string{"upload"}},

		// --- invalid names
		{name: "name with uppercase letters", method: "GET", target: "/v2/Bad/Good/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"name", "lowercase"}},
		{name: "upload into a name with uppercase letters", method: "POST", target: "/v2/REJECT/upper/blobs/uploads/",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"name", "lowercase"}},
		{name: "name with a .. segment", method: "GET", target: "/v2/bad/../good/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{".."}},
		{name: "upload into a name with a .. segment", method: "POST", target: "/v2/reject/../escape/blobs/uploads/",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{".."}},
		{name: "name with a . segment", method: "GET", target: "/v2/bad/./good/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"'.'", "segment"}},
		{name: "name with a %2F-encoded slash", method: "GET", target: "/v2/bad%2Fgood/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"percent", "encoded", "%2F"}},
		{name: "upload into a name with a %2F-encoded slash", method: "POST", target: "/v2/reject%2Fencoded/blobs/uploads/",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"percent", "encoded", "%2F"}},
		{name: "name of 256 characters is valid (unknown)", method: "GET", target: "/v2/" + long256 + "/tags/list",
			status: 404, codes: []string{"NAME_UNKNOWN"}, words: []string{long256}},
		{name: "name of 257 characters", method: "GET", target: "/v2/" + long257 + "/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"256", "257", "long"}},
		{name: "upload into a name of 257 characters", method: "POST", target: "/v2/" + long257 + "/blobs/uploads/",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"256", "257", "long"}},
		{name: "name with an empty component", method: "GET", target: "/v2/bad//good/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"empty"}},
		{name: "name starting with an empty component", method: "GET", target: "/v2//bad/good/tags/list",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"empty"}},
		{name: "upload into a name with an empty component", method: "POST", target: "/v2/reject//empty/blobs/uploads/",
			status: 400, codes: []string{"NAME_INVALID"}, words: []string{"empty"}},

		// --- oversize headers
		{name: "100 KiB header", method: "GET", target: "/v2/", header: http.Header{"X-Padding": {strings.Repeat("a", 100<<10)}},
			status: 431},

		// --- missing things
		{name: "GET unknown blob", method: "GET", target: "/v2/" + good + "/blobs/" + neverPushed.String(),
			status: 404, codes: []string{"BLOB_UNKNOWN"}, words: []string{neverPushed.Encoded()}},
		{name: "HEAD unknown blob", method: "HEAD", target: "/v2/" + good + "/blobs/" + neverPushed.String(),
			status: 404},
		{name: "GET unknown manifest digest", method: "GET", target: "/v2/" + good + "/manifests/" + neverPushedManifest.String(),
			status: 404, codes: []string{"MANIFEST_UNKNOWN"}, words: []string{neverPushedManifest.Encoded()}},
		{name: "HEAD unknown manifest digest", method: "HEAD", target: "/v2/" + good + "/manifests/" + neverPushedManifest.String(),
			status: 404},
		{name: "GET unknown tag", method: "GET", target: "/v2/" + good + "/manifests/no-such-tag",
			status: 404, codes: []string{"MANIFEST_UNKNOWN"}, words: []string{"no-such-tag"}},
		{name: "GET manifest of an unknown repository", method: "GET", target: "/v2/bad/absent/manifests/v1",
			status: 404, codes: []string{"NAME_UNKNOWN"}, words: []string{"bad/absent"}},
		{name: "PUT manifest with a tag starting with '-'", method: "PUT", target: "/v2/" + good + "/manifests/-bad", header: mct, body: manifest(nil),
			status: 400, codes: []string{"TAG_INVALID"}, words: []string{"tag"}},
		{name: "PUT manifest with a tag starting with '.'", method: "PUT", target: "/v2/" + good + "/manifests/.bad", header: mct, body: manifest(nil),
			status: 400, codes: []string{"TAG_INVALID"}, words: []string{"tag"}},
		{name: "PUT manifest with a tag containing '!'", method: "PUT", target: "/v2/" + good + "/manifests/bad!tag", header: mct, body: manifest(nil),
			status: 400, codes: []string{"TAG_INVALID"}, words: []string{"tag"}},
		{name: "PUT manifest with a 129-character tag", method: "PUT", target: "/v2/" + good + "/manifests/" + strings.Repeat("t", 129), header: mct, body: manifest(nil),
			status: 400, codes: []string{"TAG_INVALID"}, words: []string{"128", "tag"}},
		{name: "PUT manifest with an invalid ?tag=", method: "PUT", target: "/v2/" + good + "/manifests/" + goodMD.String() + "?tag=-bad", header: mct, body: goodManifest,
			status: 400, codes: []string{"TAG_INVALID"}, words: []string{"-bad"}},

		// --- wrong methods
		{name: "POST to a manifest", method: "POST", target: "/v2/" + good + "/manifests/x", header: mct, body: manifest(nil),
			status: 405, codes: []string{"UNSUPPORTED"}, words: []string{"method", "allowed"}, check: allow},
		{name: "PUT to tags/list", method: "PUT", target: "/v2/" + good + "/tags/list", body: []byte("{}"),
			status: 405, codes: []string{"UNSUPPORTED"}, words: []string{"method", "allowed"}, check: allow},
		{name: "DELETE the catalog", method: "DELETE", target: "/v2/_catalog",
			status: 405, codes: []string{"UNSUPPORTED"}, words: []string{"method", "allowed"}, check: allow},
		{name: "PATCH a blob", method: "PATCH", target: "/v2/" + good + "/blobs/" + layerD.String(), body: []byte("x"),
			status: 405, codes: []string{"UNSUPPORTED"}, words: []string{"method", "allowed"}, check: allow},
		{name: "PUT to the uploads collection", method: "PUT", target: "/v2/" + good + "/blobs/uploads/", body: []byte("x"),
			status: 405, codes: []string{"UNSUPPORTED"}, words: []string{"method", "allowed"}, check: allow},
		{name: "DELETE /v2/", method: "DELETE", target: "/v2/",
			status: 405, codes: []string{"UNSUPPORTED"}, words: []string{"method", "allowed"}, check: allow},

		// --- pagination
		{name: "tags/list n=-1", method: "GET", target: "/v2/" + good + "/tags/list?n=-1",
			status: 400, codes: []string{"PAGINATION_NUMBER_INVALID"}, words: []string{"number", "integer"}},
		{name: "tags/list n=abc", method: "GET", target: "/v2/" + good + "/tags/list?n=abc",
			status: 400, codes: []string{"PAGINATION_NUMBER_INVALID"}, words: []string{"number", "integer"}},
		{name: "catalog n=-1", method: "GET", target: "/v2/_catalog?n=-1",
			status: 400, codes: []string{"PAGINATION_NUMBER_INVALID"}, words: []string{"number", "integer"}},
		{name: "catalog n=abc", method: "GET", target: "/v2/_catalog?n=abc",
			status: 400, codes: []string{"PAGINATION_NUMBER_INVALID"}, words: []string{"number", "integer"}},
	}

	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			req, closeWrite := row.raw, true
			if req == nil {
				hdr := row.header.Clone()
				if hdr == nil {
					hdr = http.Header{}
				}
				hdr.Set("Authorization", b.AuthHeader(t))
				req, closeWrite = buildRawRequest(b.Host, row.method, row.target, hdr, row.body), false
			}
			resp, body, err := rawExchange(b.Host, row.method, req, closeWrite)
			if err != nil {
				t.Fatalf("%s %s: %v", row.method, row.target, err)
			}
			if resp.StatusCode != row.status {
				t.Errorf("%s %s: status %d, want %d: %s", row.method, row.target, resp.StatusCode, row.status, truncateForLog(body))
				if resp.StatusCode < 400 {
					return // accepted: there is no error body to check
				}
			}
			if row.codes != nil {
				checkOCIError(t, resp, body, row.codes, row.words)
			}
			if row.check != nil {
				row.check(t, resp, body)
			}
		})
	}

	// The server is alive and well.
	select {
	case <-b.done:
		t.Fatalf("the server exited during the table:\n%s", tail(b.Log(), 40))
	default:
	}
	if _, _, err := c.expect(ctx, http.StatusOK, "GET", "/v2/", nil, nil); err != nil {
		t.Fatalf("GET /v2/ after the table: %v", err)
	}
	if _, body, err := c.expect(ctx, http.StatusOK, "GET", "/v2/"+good+"/manifests/v1", http.Header{"Accept": {mtOCIManifest}}, nil); err != nil || !bytes.Equal(body, goodManifest) {
		t.Errorf("GET %s:v1 after the table: %v (same bytes: %v)", good, err, bytes.Equal(body, goodManifest))
	}
	if strings.Contains(b.Log(), "handler panic") {
		t.Errorf("the server panicked:\n%s", b.Log())
	}

	// Nothing refused was stored: no new tag, no new repository.
	_, body, err := c.expect(ctx, http.StatusOK, "GET", "/v2/"+good+"/tags/list", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tags struct{ Tags []string }
	if err := json.Unmarshal(body, &tags); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tags.Tags, []string{"v1"}) {
		t.Errorf("tags of %s after the table are %q, want only v1: a refused manifest was stored", good, tags.Tags)
	}
	_, body, err = c.expect(ctx, http.StatusOK, "GET", "/v2/_catalog", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var catalog struct{ Repositories []string }
	if err := json.Unmarshal(body, &catalog); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(catalog.Repositories, []string{good}) {
		t.Errorf("catalog after the table is %q, want only %q: a refused request created a repository", catalog.Repositories, good)
	}

	// No staging file but those of the sessions left open on purpose, which
	// are still open.
	for id := range crStagingFiles(t, b.DataDir) {
		if !leftOpen[id] {
			t.Errorf("staging file uploads/%s left behind", id)
		}
	}
	for id := range leftOpen {
		if _, _, err := c.expect(ctx, http.StatusNoContent, "GET", "/v2/"+good+"/blobs/uploads/"+id, nil, nil); err != nil {
			t.Errorf("session %s left open on purpose: %v", id, err)
		}
	}
}

func truncateForLog(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}
