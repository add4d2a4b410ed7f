package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

const (
	dgA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	dgB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	dgC = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

func TestParseManifest(t *testing.T) {
	image := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
		"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dgA + `","size":10},
		"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + dgB + `","size":20}]}`
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		wantErr     error
		wantMsg     string
		wantType    string
		wantArtType string
		wantRefs    []meta.Ref
		wantSubject string
	}{
		{name: "oci image", contentType: MediaTypeOCIManifest, body: image, wantType: MediaTypeOCIManifest,
			wantArtType: "application/vnd.oci.image.config.v1+json",
			wantRefs:    []meta.Ref{{Digest: dgA, Kind: meta.RefBlob}, {Digest: dgB, Kind: meta.RefBlob}}},
		{name: "media type from body", body: image, wantType: MediaTypeOCIManifest,
			wantArtType: "application/vnd.oci.image.config.v1+json",
			wantRefs:    []meta.Ref{{Digest: dgA, Kind: meta.RefBlob}, {Digest: dgB, Kind: meta.RefBlob}}},
		{name: "docker list", contentType: MediaTypeDockerList,
			body:     `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerList + `","manifests":[{"mediaType":"` + MediaTypeDockerManifest + `","digest":"` + dgC + `","size":5,"platform":{"os":"linux","architecture":"amd64"}}]}`,
			wantType: MediaTypeDockerList, wantRefs: []meta.Ref{{Digest: dgC, Kind: meta.RefManifest}}},
		{name: "artifact with subject", contentType: MediaTypeOCIManifest,
			body: `{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","artifactType":"application/vnd.example.sbom",
				"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + dgA + `","size":2},"layers":[],
				"subject":{"mediaType":"` + MediaTypeOCIManifest + `","digest":"` + dgC + `","size":300}}`,
			wantType: MediaTypeOCIManifest, wantArtType: "application/vnd.example.sbom", wantSubject: dgC,
			wantRefs: []meta.Ref{{Digest: dgA, Kind: meta.RefBlob}}},
		{name: "nondistributable layer not required", contentType: MediaTypeOCIManifest,
			body: `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dgA + `","size":10},
				"layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"` + dgB + `","size":20}]}`,
			wantType: MediaTypeOCIManifest, wantArtType: "application/vnd.oci.image.config.v1+json",
			wantRefs: []meta.Ref{{Digest: dgA, Kind: meta.RefBlob}}},
		{name: "not json", body: `{"schemaVersion":`, wantErr: ErrManifestInvalid, wantMsg: "not valid JSON"},
		{name: "trailing data", body: image + `{}`, wantErr: ErrManifestInvalid, wantMsg: "after its JSON"},
		{name: "schema 1", contentType: "application/vnd.docker.distribution.manifest.v1+prettyjws", body: `{"schemaVersion":1}`, wantErr: ErrManifestInvalid, wantMsg: "schema 1"},
		{name: "no schemaVersion", contentType: MediaTypeOCIManifest, body: `{"config":{"mediaType":"a/b","digest":"` + dgA + `","size":1},"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "schemaVersion"},
		{name: "unknown media type", contentType: "application/vnd.example.thing+json", body: image, wantErr: ErrManifestInvalid, wantMsg: "not supported"},
		{name: "content type mismatch", contentType: MediaTypeDockerManifest, body: image, wantErr: ErrManifestInvalid, wantMsg: "does not match"},
		{name: "no config", contentType: MediaTypeOCIManifest, body: `{"schemaVersion":2,"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "config"},
		{name: "bad digest", contentType: MediaTypeOCIManifest, body: `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:xyz","size":1},"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "config: digest"},
		{name: "negative size", contentType: MediaTypeOCIManifest, body: `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"` + dgA + `","size":-1},"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "negative"},
		{name: "missing size", contentType: MediaTypeOCIManifest, body: `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"` + dgA + `"},"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "size is missing"},
		{name: "index with layers", contentType: MediaTypeOCIIndex, body: `{"schemaVersion":2,"manifests":[],"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "no config or layers"},
		{name: "data mismatch", contentType: MediaTypeOCIManifest, body: `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"` + dgA + `","size":2,"data":"e30="},"layers":[]}`, wantErr: ErrManifestInvalid, wantMsg: "does not hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, refs, err := parseManifest(tc.contentType, []byte(tc.body))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v; want %v containing %q", err, tc.wantErr, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tc.wantType || m.ArtifactType != tc.wantArtType || m.Subject != tc.wantSubject {
				t.Errorf("got type %q artifactType %q subject %q; want %q %q %q", m.MediaType, m.ArtifactType, m.Subject, tc.wantType, tc.wantArtType, tc.wantSubject)
			}
			if len(refs) != len(tc.wantRefs) {
				t.Fatalf("refs = %v, want %v", refs, tc.wantRefs)
			}
			for i := range refs {
				if refs[i] != tc.wantRefs[i] {
					t.Errorf("refs[%d] = %v, want %v", i, refs[i], tc.wantRefs[i])
				}
			}
		})
	}
}

func TestValidateRepositoryName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ab", true}, {"my-app", true}, {"team/app", true}, {"a.b_c-d/e", true},
		{"a", false}, {"App", false}, {"a//b", false}, {"a/../b", false}, {"-a", false},
		{"a--b", true}, {"a__b", true}, {"a___b", false}, {"a.-b", false}, {"a/", false}, {strings.Repeat("a", 256), true}, {strings.Repeat("a", 257), false},
	} {
		err := ValidateRepositoryName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRepositoryName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNameInvalid) {
			t.Errorf("ValidateRepositoryName(%q) error kind = %v", tc.name, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add("", `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"`+dgA+`","size":1},"layers":[]}`)
	f.Add(MediaTypeOCIIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"`+dgA+`","size":1}]}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		m, _, err := parseManifest(ct, []byte(body))
		if err == nil && !IsManifestMediaType(m.MediaType) {
			t.Fatalf("accepted manifest with media type %q", m.MediaType)
		}
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error is not a domain error: %v", err)
			}
		}
	})
}
