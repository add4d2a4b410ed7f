package inventory

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
)

const (
	site = "usr/local/lib/python3.11/site-packages"
	nm   = "srv/app/node_modules"
)

// An image as a build leaves it: a Debian base layer, then the
// application's layer with a Go binary, a cargo auditable binary, Python
// and npm packages and a jar.
func TestImage(t *testing.T) {
	base := layerOf(t, debianRoot(t)...)
	app := layerOf(t,
		exe("usr/local/bin/app", goBinary(t)),
		exe("usr/local/bin/demo", rustBinary(t)),
		distInfo(site, "requests", "2.19.0"),
		distInfo(site, "urllib3", "1.24.1"),
		npmPackage(nm, "lodash", "4.17.15"),
		npmPackage(nm, "minimist", "1.2.0"),
		entry{name: "opt/app/lib/log4j-core-2.14.1.jar", body: jarOf(t, "org.apache.logging.log4j", "log4j-core", "2.14.1"), mode: 0o644},
	)
	src := newMemSource()
	manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", base, app))
	res, err := take(t, src.source(), manifest, mt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 {
		t.Fatalf("got %d images, want 1", len(res.Images))
	}
	img := res.Images[0]
	if img.Digest != digest.FromBytes(manifest) || img.Platform.String() != "linux/amd64" || img.Layers != 2 {
		t.Errorf("image = %s %s %d layers, want %s linux/amd64 2 layers", img.Digest, img.Platform, img.Layers, digest.FromBytes(manifest))
	}
	wantOS := OS{ID: "debian", VersionID: "12", VersionCodename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
	if img.OS == nil || *img.OS != wantOS {
		t.Errorf("OS = %+v, want %+v", img.OS, wantOS)
	}

	got := keys(img.Packages)
	for _, w := range []struct {
		key, source, purl, path, extractor string
	}{
		{"Debian:12 libssl3 3.0.17-1~deb12u2", "openssl", "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=amd64&distro=bookworm&source=openssl", "/var/lib/dpkg/status", "os/dpkg"},
		{"Debian:12 openssl 3.0.17-1~deb12u2", "", "pkg:deb/debian/openssl@3.0.17-1~deb12u2?arch=amd64&distro=bookworm", "/var/lib/dpkg/status", "os/dpkg"},
		{"Debian:12 zlib1g 1:1.2.13.dfsg-1", "zlib", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&source=zlib", "/var/lib/dpkg/status", "os/dpkg"},
		{"Debian:12 libc6 2.36-9+deb12u7", "glibc", "", "/var/lib/dpkg/status", "os/dpkg"},
		{"Debian:12 libexpat1 2.5.0-1+deb12u2", "expat", "", "/var/lib/dpkg/status", "os/dpkg"},
		{"Debian:12 libcurl4 7.88.1-10+deb12u5", "curl", "", "/var/lib/dpkg/status", "os/dpkg"},
		{"Debian:12 base-files 12.4+deb12u15", "", "", "/var/lib/dpkg/status", "os/dpkg"},
		{"Go golang.org/x/text 0.3.0", "", "pkg:golang/golang.org/x/text@0.3.0", "/usr/local/bin/app", "go/binary"},
		{"Go stdlib " + goVersion(t), "", "pkg:golang/stdlib@" + goVersion(t), "/usr/local/bin/app", "go/binary"},
		{"crates.io smallvec 1.6.0", "", "pkg:cargo/smallvec@1.6.0", "/usr/local/bin/demo", "rust/cargoauditable"},
		{"crates.io time 0.1.43", "", "pkg:cargo/time@0.1.43", "/usr/local/bin/demo", "rust/cargoauditable"},
		{"PyPI requests 2.19.0", "", "pkg:pypi/requests@2.19.0", "/" + site + "/requests-2.19.0.dist-info/METADATA", "python/wheelegg"},
		{"PyPI urllib3 1.24.1", "", "pkg:pypi/urllib3@1.24.1", "/" + site + "/urllib3-1.24.1.dist-info/METADATA", "python/wheelegg"},
		{"npm lodash 4.17.15", "", "pkg:npm/lodash@4.17.15", "/" + nm + "/lodash/package.json", "javascript/packagejson"},
		{"npm minimist 1.2.0", "", "pkg:npm/minimist@1.2.0", "/" + nm + "/minimist/package.json", "javascript/packagejson"},
		{"Maven org.apache.logging.log4j:log4j-core 2.14.1", "", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "/opt/app/lib/log4j-core-2.14.1.jar", "java/archive"},
	} {
		p, ok := got[w.key]
		if !ok {
			t.Errorf("missing %s", w.key)
			continue
		}
		if p.SourceName != w.source {
			t.Errorf("%s: source %q, want %q", w.key, p.SourceName, w.source)
		}
		if w.purl != "" && p.PURL != w.purl {
			t.Errorf("%s: PURL %q, want %q", w.key, p.PURL, w.purl)
		}
		if len(p.Paths) != 1 || p.Paths[0] != w.path {
			t.Errorf("%s: paths %q, want [%s]", w.key, p.Paths, w.path)
		}
		if p.Extractor != w.extractor {
			t.Errorf("%s: extractor %q, want %q", w.key, p.Extractor, w.extractor)
		}
	}
	for _, absent := range []string{
		"Debian:12 curl 7.88.1-10+deb12u5", // removed, its configuration files left
		"crates.io cc 1.0.79",              // a build dependency, not in the binary
	} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s listed", absent)
		}
	}
	for _, p := range img.Packages {
		if p.Extractor == "go/binary" && p.Paths[0] != "/usr/local/bin/app" {
			t.Errorf("%s found in %s: a script is not a Go binary", pkgKey(p), p.Paths)
		}
	}
}

func goVersion(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Skip(err)
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "go"), " ")
	return v
}

// Layers come plain, gzip'd or zstd'd, in OCI or Docker manifests; each
// reads the same.
func TestFormats(t *testing.T) {
	tarBytes := tarOf(t, debianRoot(t)...)
	docker := func(t *testing.T) v1.Image {
		img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
		must(t, err)
		img, err = mutate.AppendLayers(img, static.NewLayer(compressedBytes(t, tarBytes), types.DockerLayer))
		must(t, err)
		if mt, _ := img.MediaType(); mt != types.DockerManifestSchema2 {
			t.Fatalf("test image is %s, not a Docker manifest", mt)
		}
		return img
	}
	for _, tc := range []struct {
		name string
		img  func(t *testing.T) v1.Image
	}{
		{"OCI, gzip", func(t *testing.T) v1.Image { return imageOf(t, "linux/amd64", compressed(t, tarBytes, "gzip")) }},
		{"OCI, zstd", func(t *testing.T) v1.Image { return imageOf(t, "linux/amd64", compressed(t, tarBytes, "zstd")) }},
		{"OCI, uncompressed", func(t *testing.T) v1.Image { return imageOf(t, "linux/amd64", compressed(t, tarBytes, "none")) }},
		{"Docker schema 2, gzip", docker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newMemSource()
			manifest, mt := src.pushImage(t, tc.img(t))
			res, err := take(t, src.source(), manifest, mt)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(res.Images[0].Packages); n != 7 {
				t.Errorf("%d packages, want the 7 installed", n)
			}
		})
	}
}

// What later layers delete, replace or hide is not in the image.
func TestLayersOverride(t *testing.T) {
	pyBase := []entry{distInfo(site, "requests", "2.19.0"), distInfo(site, "urllib3", "1.24.1")}
	nodeBase := []entry{npmPackage(nm, "lodash", "4.17.15"), npmPackage(nm, "minimist", "1.2.0")}
	status, err := os.ReadFile("testdata/debian/status")
	must(t, err)
	for _, tc := range []struct {
		name          string
		layers        [][]entry
		want, notWant []string
	}{{
		name:    "a whiteout deletes a dist-info directory",
		layers:  [][]entry{pyBase, {whiteout(site, "urllib3-1.24.1.dist-info")}},
		want:    []string{"PyPI requests 2.19.0"},
		notWant: []string{"PyPI urllib3 1.24.1"},
	}, {
		name:    "a whiteout deletes an npm package",
		layers:  [][]entry{nodeBase, {whiteout(nm, "minimist")}},
		want:    []string{"npm lodash 4.17.15"},
		notWant: []string{"npm minimist 1.2.0"},
	}, {
		name:    "a whiteout deletes a Go binary",
		layers:  [][]entry{{exe("usr/local/bin/app", goBinary(t))}, {whiteout("usr/local/bin", "app")}},
		notWant: []string{"Go golang.org/x/text 0.3.0"},
	}, {
		name:    "a rewritten dpkg status drops an upgraded-away package",
		layers:  [][]entry{debianRoot(t), {file("var/lib/dpkg/status", withoutStanza(string(status), "libexpat1"))}},
		want:    []string{"Debian:12 libc6 2.36-9+deb12u7", "Debian:12 libssl3 3.0.17-1~deb12u2"},
		notWant: []string{"Debian:12 libexpat1 2.5.0-1+deb12u2"},
	}, {
		name:    "an opaque directory hides what lay below it",
		layers:  [][]entry{nodeBase, {opaque(nm), npmPackage(nm, "lodash", "4.17.21")}},
		want:    []string{"npm lodash 4.17.21"},
		notWant: []string{"npm lodash 4.17.15", "npm minimist 1.2.0"},
	}, {
		name:    "a file written again replaces the old one",
		layers:  [][]entry{nodeBase, {npmPackage(nm, "lodash", "4.17.21")}},
		want:    []string{"npm lodash 4.17.21", "npm minimist 1.2.0"},
		notWant: []string{"npm lodash 4.17.15"},
	}, {
		name:    "a layer's whiteout does not delete its own files",
		layers:  [][]entry{nodeBase, {whiteout(nm, "minimist"), npmPackage(nm, "minimist", "1.2.6")}},
		want:    []string{"npm minimist 1.2.6", "npm lodash 4.17.15"},
		notWant: []string{"npm minimist 1.2.0"},
	}, {
		name:    "deleted, then added again",
		layers:  [][]entry{nodeBase, {whiteout(nm, "minimist")}, {npmPackage(nm, "minimist", "1.2.6")}},
		want:    []string{"npm minimist 1.2.6"},
		notWant: []string{"npm minimist 1.2.0"},
	}, {
		name:    "a directory replaced by a symbolic link",
		layers:  [][]entry{nodeBase, {symlink(nm+"/minimist", "/opt/minimist")}},
		want:    []string{"npm lodash 4.17.15"},
		notWant: []string{"npm minimist 1.2.0"},
	}, {
		name:    "the whole site-packages deleted three layers up",
		layers:  [][]entry{pyBase, nodeBase, {file("etc/motd", "hello")}, {whiteout("usr/local/lib/python3.11", "site-packages")}},
		want:    []string{"npm lodash 4.17.15"},
		notWant: []string{"PyPI requests 2.19.0", "PyPI urllib3 1.24.1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var layers []v1.Layer
			for _, l := range tc.layers {
				layers = append(layers, layerOf(t, l...))
			}
			src := newMemSource()
			manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", layers...))
			res, err := take(t, src.source(), manifest, mt)
			if err != nil {
				t.Fatal(err)
			}
			got := keys(res.Images[0].Packages)
			for _, w := range tc.want {
				if _, ok := got[w]; !ok {
					t.Errorf("missing %s", w)
				}
			}
			for _, n := range tc.notWant {
				if _, ok := got[n]; ok {
					t.Errorf("%s listed, but a later layer removed it", n)
				}
			}
		})
	}
}

// withoutStanza drops one package's stanza from a dpkg status file, as
// dpkg does when the package is purged.
func withoutStanza(status, pkg string) string {
	var kept []string
	for _, s := range strings.Split(strings.TrimSpace(status), "\n\n") {
		if !strings.HasPrefix(s, "Package: "+pkg+"\n") {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, "\n\n") + "\n"
}

// An index gives one inventory per platform; its attestations are not
// images to scan.
func TestIndex(t *testing.T) {
	amd64 := imageOf(t, "linux/amd64",
		layerOf(t, debianRoot(t)...),
		layerOf(t, exe("usr/local/bin/app", goBinary(t))))
	arm64 := imageOf(t, "linux/arm64/v8", layerOf(t,
		file("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.0\nPRETTY_NAME=\"Alpine Linux v3.18\"\n"),
		file("lib/apk/db/installed", string(scalibrTestdata(t, "extractor/filesystem/os/apk/testdata/installed"))),
		distInfo("usr/lib/python3.11/site-packages", "urllib3", "1.24.1"),
	))
	amd64Digest, err := amd64.Digest()
	must(t, err)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: attestation(t), Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd64Digest.String()},
		}},
	)
	src := newMemSource()
	manifest, mt := src.pushIndex(t, idx)
	res, err := take(t, src.source(), manifest, mt)
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, img := range res.Images {
		platforms = append(platforms, img.Platform.String())
	}
	if got := strings.Join(platforms, " "); got != "linux/amd64 linux/arm64/v8" {
		t.Fatalf("platforms %q, want linux/amd64 and linux/arm64/v8 (and no attestation)", got)
	}
	if res.Images[0].Digest != digest.Digest(amd64Digest.String()) {
		t.Errorf("first image %s, want %s", res.Images[0].Digest, amd64Digest)
	}
	for _, tc := range []struct {
		img           Image
		os            string
		want, notWant []string
	}{
		{res.Images[0], "debian", []string{"Debian:12 libssl3 3.0.17-1~deb12u2", "Go golang.org/x/text 0.3.0"}, []string{"Alpine:v3.18 libssl3 3.1.0-r4", "PyPI urllib3 1.24.1"}},
		{res.Images[1], "alpine", []string{"Alpine:v3.18 libssl3 3.1.0-r4", "Alpine:v3.18 musl 1.2.4-r0", "PyPI urllib3 1.24.1"}, []string{"Debian:12 libssl3 3.0.17-1~deb12u2", "Go golang.org/x/text 0.3.0"}},
	} {
		if tc.img.OS == nil || tc.img.OS.ID != tc.os {
			t.Errorf("%s: OS %+v, want %s", tc.img.Platform, tc.img.OS, tc.os)
		}
		got := keys(tc.img.Packages)
		for _, w := range tc.want {
			if _, ok := got[w]; !ok {
				t.Errorf("%s: missing %s", tc.img.Platform, w)
			}
		}
		for _, n := range tc.notWant {
			if _, ok := got[n]; ok {
				t.Errorf("%s: %s listed; it is another platform's", tc.img.Platform, n)
			}
		}
	}
	if p := keys(res.Images[1].Packages)["Alpine:v3.18 libssl3 3.1.0-r4"]; p.SourceName != "openssl" {
		t.Errorf("apk libssl3: source %q, want its origin openssl", p.SourceName)
	}
}

// attestation is a BuildKit provenance attestation: an image manifest
// whose one layer is an in-toto statement.
func attestation(t testing.TB) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(img, &v1.ConfigFile{OS: "unknown", Architecture: "unknown"})
	must(t, err)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:       static.NewLayer([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}`), "application/vnd.in-toto+json"),
		Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
	})
	must(t, err)
	return img
}

// The rpm database of a real Rocky Linux 9.2 image, read by the pure-Go
// SQLite driver Berth already links.
func TestRPM(t *testing.T) {
	src := newMemSource()
	manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", layerOf(t,
		file("usr/lib/os-release", "NAME=\"Rocky Linux\"\nVERSION=\"9.2 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.2\"\nPLATFORM_ID=\"platform:el9\"\nPRETTY_NAME=\"Rocky Linux 9.2 (Blue Onyx)\"\n"),
		symlink("etc/os-release", "../usr/lib/os-release"),
		file("var/lib/rpm/rpmdb.sqlite", string(scalibrTestdata(t, "extractor/filesystem/os/rpm/testdata/rpmdb.sqlite"))),
	)))
	res, err := take(t, src.source(), manifest, mt)
	if err != nil {
		t.Fatal(err)
	}
	img := res.Images[0]
	if img.OS == nil || img.OS.ID != "rocky" || img.OS.VersionID != "9.2" {
		t.Errorf("OS %+v, want rocky 9.2", img.OS)
	}
	got := keys(img.Packages)
	if len(got) < 100 {
		t.Errorf("%d packages, want the image's 141", len(got))
	}
	p, ok := got["Rocky Linux openssl-libs 1:3.0.7-6.el9_2"]
	if !ok {
		t.Fatalf("openssl-libs 1:3.0.7-6.el9_2 (with its epoch) not listed")
	}
	if p.SourceName != "openssl" || !strings.HasPrefix(p.PURL, "pkg:rpm/rocky/openssl-libs@3.0.7-6.el9_2?") {
		t.Errorf("openssl-libs: source %q, PURL %q", p.SourceName, p.PURL)
	}
}

// A layer that is no tar archive fails the inventory, naming the layer.
func TestUnreadableLayer(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	goodTar := tarOf(t, debianRoot(t)...)
	for _, tc := range []struct {
		name  string
		blob  []byte
		cause string
	}{
		{"plain text", bytes.Repeat([]byte("this is not a tar archive\n"), 100), "invalid tar header"},
		{"gzip of JSON", gz([]byte(`{"not":"a tar"}`)), "unexpected EOF"},
		{"corrupt gzip", append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, bytes.Repeat([]byte{0xaa}, 600)...), "invalid tar header"},
		{"truncated gzip", gz(goodTar)[:len(gz(goodTar))/2], "unexpected EOF"},
		{"zstd of garbage", append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte{0x55}, 600)...), "unknown dictionary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := static.NewLayer(tc.blob, types.OCILayer)
			badDigest, err := bad.Digest()
			must(t, err)
			src := newMemSource()
			manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", layerOf(t, debianRoot(t)...), bad, layerOf(t, file("etc/motd", "hi"))))
			_, err = take(t, src.source(), manifest, mt)
			var le *LayerError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a *LayerError", err)
			}
			if !errors.Is(err, ErrUnreadableLayer) {
				t.Errorf("error %v does not wrap ErrUnreadableLayer", err)
			}
			if le.Index != 1 || le.Digest.String() != badDigest.String() || le.Platform.String() != "linux/amd64" {
				t.Errorf("LayerError names layer %d %s (%s), want 1 %s", le.Index, le.Digest, le.Platform, badDigest)
			}
			msg := err.Error()
			if !strings.Contains(msg, badDigest.String()) || !strings.Contains(msg, tc.cause) {
				t.Errorf("message %q should name the layer and say %q", msg, tc.cause)
			}
			t.Log(msg)
		})
	}

	// A blob the store cannot give is a failure of the store, not of the
	// layer's content.
	t.Run("missing blob", func(t *testing.T) {
		layer := layerOf(t, debianRoot(t)...)
		d, err := layer.Digest()
		must(t, err)
		src := newMemSource()
		manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", layer))
		delete(src.blobs, digest.Digest(d.String()))
		_, err = take(t, src.source(), manifest, mt)
		var le *LayerError
		if !errors.As(err, &le) || !errors.Is(err, errNoBlob) || errors.Is(err, ErrUnreadableLayer) {
			t.Errorf("error %v, want a LayerError of the store's error", err)
		}
	})
}

// Images with nothing to inventory are told apart from failures.
func TestUnsupported(t *testing.T) {
	helm := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	helm = mutate.ConfigMediaType(helm, "application/vnd.cncf.helm.config.v1+json")
	helm, err := mutate.Append(helm, mutate.Addendum{Layer: static.NewLayer([]byte("chart"), "application/vnd.cncf.helm.chart.content.v1.tar+gzip")})
	must(t, err)
	windows, err := mutate.ConfigFile(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
		&v1.ConfigFile{OS: "windows", Architecture: "amd64"})
	must(t, err)
	windows, err = mutate.AppendLayers(windows, layerOf(t, file("Files/hello.txt", "hi")))
	must(t, err)
	onlyAttestations := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: attestation(t), Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}})

	for _, tc := range []struct {
		name string
		push func(*memSource) ([]byte, string)
	}{
		{"no layers", func(s *memSource) ([]byte, string) { return s.pushImage(t, imageOf(t, "linux/amd64")) }},
		{"a Helm chart", func(s *memSource) ([]byte, string) { return s.pushImage(t, helm) }},
		{"an attestation", func(s *memSource) ([]byte, string) { return s.pushImage(t, attestation(t)) }},
		{"a Windows image", func(s *memSource) ([]byte, string) { return s.pushImage(t, windows) }},
		{"an index of attestations only", func(s *memSource) ([]byte, string) { return s.pushIndex(t, onlyAttestations) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newMemSource()
			manifest, mt := tc.push(src)
			_, err := take(t, src.source(), manifest, mt)
			if !errors.Is(err, ErrUnsupportedImage) {
				t.Errorf("error %v, want ErrUnsupportedImage", err)
			}
		})
	}
}

// An image of files no extractor knows is inventoried, with nothing in it.
func TestNoPackages(t *testing.T) {
	src := newMemSource()
	manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", layerOf(t, file("hello.txt", "hi"), exe("bin/run.sh", []byte("#!/bin/sh\necho hi\n")))))
	res, err := take(t, src.source(), manifest, mt)
	if err != nil {
		t.Fatal(err)
	}
	if img := res.Images[0]; len(img.Packages) != 0 || img.OS != nil {
		t.Errorf("got %d packages, OS %+v; want none", len(img.Packages), img.OS)
	}
}

func TestCanceled(t *testing.T) {
	src := newMemSource()
	manifest, mt := src.pushImage(t, imageOf(t, "linux/amd64", layerOf(t, debianRoot(t)...)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Take(ctx, src.source(), manifest, mt, Options{ScratchDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("error %v, want the context's", err)
	}
}

func TestManifestType(t *testing.T) {
	for _, tc := range []struct {
		body, given, want string
	}{
		{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, "", MediaTypeOCIIndex},
		{`{"schemaVersion":2,"manifests":[]}`, "", MediaTypeOCIIndex},
		{`{"schemaVersion":2,"config":{},"layers":[]}`, "", MediaTypeOCIManifest},
		{`{"schemaVersion":2}`, MediaTypeDockerManifest + "; charset=utf-8", MediaTypeDockerManifest},
		{`{"schemaVersion":2}`, "application/vnd.docker.distribution.manifest.v1+prettyjws", "error"},
	} {
		got, err := manifestType([]byte(tc.body), tc.given)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("manifestType(%s, %q) = %s, want %s", tc.body, tc.given, got, tc.want)
		}
	}
}

func TestSRPMName(t *testing.T) {
	for in, want := range map[string]string{
		"openssl-3.0.7-6.el9_2.src.rpm":        "openssl",
		"python3-pip-21.2.3-6.el9.src.rpm":     "python3-pip",
		"kernel-5.14.0-284.11.1.el9_2.src.rpm": "kernel",
		"":                                     "",
		"weird.src.rpm":                        "",
	} {
		if got := srpmName(in); got != want {
			t.Errorf("srpmName(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExamplePlatform_String() {
	fmt.Println(Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
	// Output: linux/arm64/v8
}
