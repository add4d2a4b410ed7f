package inventory

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

// memSource is a Source in memory: what a test pushes, as Berth would keep
// it (layers and configs as blobs, manifests apart).
type memSource struct {
	blobs     map[digest.Digest][]byte
	manifests map[digest.Digest]memManifest
}

type memManifest struct {
	body      []byte
	mediaType string
}

func newMemSource() *memSource {
	return &memSource{blobs: map[digest.Digest][]byte{}, manifests: map[digest.Digest]memManifest{}}
}

func (s *memSource) source() Source { return Source{Blobs: s, Manifests: s} }

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

var errNoBlob = errors.New("no such blob")

func (s *memSource) Open(_ context.Context, d digest.Digest) (io.ReadSeekCloser, int64, error) {
	b, ok := s.blobs[d]
	if !ok {
		return nil, 0, fmt.Errorf("%s: %w", d, errNoBlob)
	}
	return nopSeekCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

func (s *memSource) Manifest(_ context.Context, d digest.Digest) ([]byte, string, error) {
	m, ok := s.manifests[d]
	if !ok {
		return nil, "", fmt.Errorf("manifest %s: not found", d)
	}
	return m.body, m.mediaType, nil
}

// pushImage stores an image's blobs and manifest and returns the manifest.
func (s *memSource) pushImage(t testing.TB, img v1.Image) ([]byte, string) {
	t.Helper()
	cfgName, err := img.ConfigName()
	must(t, err)
	cfg, err := img.RawConfigFile()
	must(t, err)
	s.blobs[digest.Digest(cfgName.String())] = cfg
	layers, err := img.Layers()
	must(t, err)
	for _, l := range layers {
		d, err := l.Digest()
		must(t, err)
		rc, err := l.Compressed()
		must(t, err)
		b, err := io.ReadAll(rc)
		must(t, err)
		rc.Close()
		s.blobs[digest.Digest(d.String())] = b
	}
	body, err := img.RawManifest()
	must(t, err)
	mt, err := img.MediaType()
	must(t, err)
	s.manifests[digest.FromBytes(body)] = memManifest{body, string(mt)}
	return body, string(mt)
}

// pushIndex stores an index and every image it lists.
func (s *memSource) pushIndex(t testing.TB, idx v1.ImageIndex) ([]byte, string) {
	t.Helper()
	im, err := idx.IndexManifest()
	must(t, err)
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		must(t, err)
		s.pushImage(t, img)
	}
	body, err := idx.RawManifest()
	must(t, err)
	mt, err := idx.MediaType()
	must(t, err)
	s.manifests[digest.FromBytes(body)] = memManifest{body, string(mt)}
	return body, string(mt)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// entry is one tar entry of a test layer.
type entry struct {
	name string
	body []byte
	mode int64
	typ  byte   // tar.TypeReg when zero
	link string // for symlinks
}

func file(name, body string) entry { return entry{name: name, body: []byte(body), mode: 0o644} }
func exe(name string, body []byte) entry {
	return entry{name: name, body: body, mode: 0o755}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) entry {
	return entry{name: name, typ: tar.TypeSymlink, link: to, mode: 0o777}
}
func whiteout(dirName, n string) entry { return file(dirName+"/.wh."+n, "") }
func opaque(dirName string) entry      { return file(dirName+"/.wh..wh..opq", "") }

// tarOf writes entries as a tar stream, with their parent directories
// first as image builders do.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, e := range entries {
		parts := strings.Split(strings.Trim(e.name, "/"), "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				must(t, tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}))
			}
		}
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.link, ModTime: time.Unix(0, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if h.Typeflag == tar.TypeDir {
			dirs[strings.TrimSuffix(e.name, "/")+"/"] = true
		}
		must(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write(e.body)
			must(t, err)
		}
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// layerOf makes a layer of entries, compressed as registries see them
// most: gzip.
func layerOf(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	return compressed(t, tarOf(t, entries...), "gzip")
}

// compressed wraps a tar stream as a layer blob: "gzip", "zstd" or "none".
func compressed(t testing.TB, tarBytes []byte, how string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	switch how {
	case "gzip":
		return static.NewLayer(compressedBytes(t, tarBytes), types.OCILayer)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		must(t, err)
		_, err = zw.Write(tarBytes)
		must(t, err)
		must(t, zw.Close())
		return static.NewLayer(buf.Bytes(), types.OCILayerZStd)
	case "none":
		return static.NewLayer(tarBytes, types.OCIUncompressedLayer)
	}
	t.Fatalf("unknown compression %q", how)
	return nil
}

// compressedBytes gzips b.
func compressedBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	must(t, err)
	must(t, zw.Close())
	return buf.Bytes()
}

// imageOf makes an OCI image for platform ("linux/amd64") of layers, base
// first.
func imageOf(t testing.TB, platform string, layers ...v1.Layer) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(platform)
	must(t, err)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant})
	must(t, err)
	img, err = mutate.AppendLayers(img, layers...)
	must(t, err)
	return img
}

// --- Real content -----------------------------------------------------------

// debianRoot is the files of a Debian 12 root filesystem that say what is
// installed: a dpkg status file built from real bookworm packages (by
// scripts/testdata-debian) and base-files' os-release, with
// etc/os-release a relative symbolic link as base-files ships it.
func debianRoot(t testing.TB) []entry {
	t.Helper()
	status, err := os.ReadFile("testdata/debian/status")
	must(t, err)
	osRelease, err := os.ReadFile("testdata/debian/os-release")
	must(t, err)
	return []entry{
		dir("etc"),
		symlink("etc/os-release", "../usr/lib/os-release"),
		file("etc/debian_version", "12.12\n"),
		file("usr/lib/os-release", string(osRelease)),
		file("var/lib/dpkg/status", string(status)),
		exe("usr/bin/env", []byte("#!/bin/sh\n# not a binary with build information\n")),
	}
}

// distInfo is a pip-installed distribution's METADATA, as wheel writes it.
func distInfo(site, name, version string) entry {
	return file(fmt.Sprintf("%s/%s-%s.dist-info/METADATA", site, name, version),
		fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test distribution\nLicense: Apache 2.0\n\nLong description.\n", name, version))
}

// npmPackage is an installed npm package's package.json.
func npmPackage(nodeModules, name, version string) entry {
	b, _ := json.Marshal(map[string]any{
		"name": name, "version": version, "main": "index.js", "license": "MIT",
		"repository": map[string]string{"type": "git", "url": "git+https://example.com/" + name + ".git"},
	})
	return file(nodeModules+"/"+name+"/package.json", string(b))
}

// jarOf is a Java archive as Maven builds it: the coordinates in
// META-INF/maven/<group>/<artifact>/pom.properties.
func jarOf(t testing.TB, group, artifact, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nImplementation-Title: " + artifact + "\r\nImplementation-Version: " + version + "\r\n\r\n",
		"META-INF/maven/" + group + "/" + artifact + "/pom.properties": "groupId=" + group + "\nartifactId=" + artifact + "\nversion=" + version + "\n",
		"org/example/Main.class": "\xca\xfe\xba\xbe not really a class",
	} {
		w, err := zw.Create(name)
		must(t, err)
		_, err = io.WriteString(w, body)
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

var (
	goBinaryOnce sync.Once
	goBinaryData []byte
	goBinaryErr  error
)

// goBinary builds, once per test run, a Go program that requires
// golang.org/x/text v0.3.0 (affected by GO-2020-0015, GO-2021-0113 and
// GO-2022-1059). The module is fetched through the Go proxy the first time;
// without one (and without it in the module cache) the tests that need it
// are skipped.
func goBinary(t testing.TB) []byte {
	t.Helper()
	goBinaryOnce.Do(func() { goBinaryData, goBinaryErr = buildGoBinary() })
	if goBinaryErr != nil {
		t.Skipf("cannot build the test Go program: %v", goBinaryErr)
	}
	return goBinaryData
}

func buildGoBinary() ([]byte, error) {
	dir, err := os.MkdirTemp("", "inventory-gobin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"go.mod": "module example.com/inventorydemo\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n",
		"go.sum": "golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n" +
			"golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.MustParse(\"en-GB\")) }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", "app", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return os.ReadFile(filepath.Join(dir, "app"))
}

// rustBinary is an ELF executable carrying cargo auditable's dependency
// list (zlib-compressed JSON in a .dep-v0 section, which cargo auditable
// has the linker add), made by adding that section to an executable of
// this machine with objcopy. smallvec 1.6.0 is affected by
// RUSTSEC-2021-0003, time 0.1.43 by RUSTSEC-2020-0071.
func rustBinary(t testing.TB) []byte {
	t.Helper()
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skip("objcopy (binutils) is needed to make a cargo auditable binary")
	}
	host, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no executable to add a section to")
	}
	deps := `{"packages":[` +
		`{"name":"demo","version":"0.1.0","source":"local","kind":"runtime","dependencies":[1,2],"root":true},` +
		`{"name":"smallvec","version":"1.6.0","source":"crates.io","kind":"runtime","dependencies":[]},` +
		`{"name":"time","version":"0.1.43","source":"crates.io","kind":"runtime","dependencies":[]},` +
		`{"name":"cc","version":"1.0.79","source":"crates.io","kind":"build","dependencies":[]}]}`
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, err = io.WriteString(zw, deps)
	must(t, err)
	must(t, zw.Close())
	dir := t.TempDir()
	section := filepath.Join(dir, "dep-v0")
	must(t, os.WriteFile(section, z.Bytes(), 0o644))
	out := filepath.Join(dir, "demo")
	if b, err := exec.Command(objcopy, "--add-section", ".dep-v0="+section, host, out).CombinedOutput(); err != nil {
		t.Skipf("objcopy: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	must(t, err)
	return b
}

// scalibrTestdata is a file from osv-scalibr's own test data: package
// databases taken from real images (an Alpine 3.18 apk database, a Rocky
// Linux 9.2 rpm database) that ship in its module.
func scalibrTestdata(t testing.TB, rel string) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/google/osv-scalibr").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("osv-scalibr's module directory not found: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), filepath.FromSlash(rel)))
	if err != nil {
		t.Skipf("osv-scalibr test data: %v", err)
	}
	return b
}

// pkgKey names a package for comparisons: "Ecosystem name version".
func pkgKey(p Package) string { return p.Ecosystem + " " + p.Name + " " + p.Version }

func keys(pkgs []Package) map[string]Package {
	m := make(map[string]Package, len(pkgs))
	for _, p := range pkgs {
		m[pkgKey(p)] = p
	}
	return m
}

// take runs an inventory with a scratch directory that the test checks is
// left empty.
func take(t testing.TB, src Source, manifest []byte, mediaType string) (*Result, error) {
	t.Helper()
	scratch := t.TempDir()
	res, err := Take(t.Context(), src, manifest, mediaType, Options{ScratchDir: scratch, Logger: testLogger(t)})
	left, rerr := os.ReadDir(scratch)
	must(t, rerr)
	if len(left) != 0 {
		t.Errorf("the inventory left %d entries in its scratch directory", len(left))
	}
	return res, err
}

// testLogger sends an inventory's logs to the test's log, shown when it
// fails or with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
