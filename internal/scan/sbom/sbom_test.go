package sbom

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
	"github.com/xeipuuv/gojsonschema"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/scan/inventory"
)

var created = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

const createdText = "2026-03-14T14:09:26Z"

func dg(s string) digest.Digest { return digest.FromString(s) }

// debianImage is an image as the inventory reports one: an OS, an OS
// package built from another source package, language packages found at
// several paths, and a package with neither ecosystem nor PURL.
func debianImage(d digest.Digest, arch string) inventory.Image {
	return inventory.Image{
		Digest:   d,
		Platform: inventory.Platform{OS: "linux", Architecture: arch},
		OS:       &inventory.OS{ID: "debian", VersionID: "12", VersionCodename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
		Packages: []inventory.Package{
			{Name: "requests", Version: "2.19.0", Ecosystem: "PyPI", PURL: "pkg:pypi/requests@2.19.0",
				Paths: []string{"/usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA"}, Extractor: "python/wheelegg"},
			{Name: "libssl3", Version: "3.0.17-1~deb12u2", Ecosystem: "Debian:12", SourceName: "openssl",
				PURL: "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=" + arch + "&distro=debian-12", Paths: []string{"/var/lib/dpkg/status"}, Extractor: "os/dpkg"},
			{Name: "lodash", Version: "4.17.15", Ecosystem: "npm", PURL: "pkg:npm/lodash@4.17.15",
				Paths: []string{"/app/node_modules/lodash/package.json", "/app/b/node_modules/lodash/package.json"}, Extractor: "javascript/packagejson"},
			{Name: "mystery", Version: "1.0", Extractor: "os/dpkg"},
		},
	}
}

func singleDoc() Document {
	img := debianImage(dg("image"), "amd64")
	return Document{Name: "team/app", Subject: img.Digest, Created: created, Images: []inventory.Image{img}}
}

func indexDoc() Document {
	return Document{Name: "team/app", Subject: dg("index"), Created: created,
		Images: []inventory.Image{debianImage(dg("amd64"), "amd64"), debianImage(dg("arm64"), "arm64")}}
}

// distroless is an image with no os-release and no packages.
func distrolessDoc() Document {
	img := inventory.Image{Digest: dg("static"), Platform: inventory.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}}
	return Document{Name: "static", Subject: img.Digest, Created: created, Images: []inventory.Image{img}}
}

// pkgFacts is what a document says of one package, in either format.
type pkgFacts struct {
	Image, Name, Version, PURL, Ecosystem string
	Paths                                 []string
}

func expected(d Document) []pkgFacts {
	var out []pkgFacts
	for _, img := range d.Images {
		for _, p := range img.Packages {
			out = append(out, pkgFacts{img.Digest.String(), p.Name, p.Version, p.PURL, p.Ecosystem, slices.Sorted(slices.Values(p.Paths))})
		}
	}
	sortFacts(out)
	return out
}

func sortFacts(fs []pkgFacts) {
	slices.SortFunc(fs, func(a, b pkgFacts) int {
		return strings.Compare(a.Image+a.Name+a.Version+a.PURL, b.Image+b.Name+b.Version+b.PURL)
	})
}

var cases = []struct {
	name string
	doc  func() Document
}{
	{"image", singleDoc},
	{"index", indexDoc},
	{"distroless", distrolessDoc},
}

func TestSPDX(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.doc()
			out, err := Encode(SPDX, d)
			if err != nil {
				t.Fatal(err)
			}
			checkSPDXRequired(t, out)
			// SPDX's own Go library reads it as a 2.3 document whose
			// relationships name elements it has.
			doc, err := spdxjson.Read(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("tools-golang cannot read it: %v\n%s", err, out)
			}
			if err := spdxlib.ValidateDocument(doc); err != nil {
				t.Errorf("tools-golang: %v", err)
			}
			described, err := spdxlib.GetDescribedPackageIDs(doc)
			if err != nil || len(described) != 1 {
				t.Fatalf("described packages %v, %v; want the subject alone", described, err)
			}
			byID := map[string]*struct {
				name, version, purl, comment, source, purpose string
			}{}
			for _, p := range doc.Packages {
				v := &struct{ name, version, purl, comment, source, purpose string }{p.PackageName, p.PackageVersion, "", p.PackageComment, p.PackageSourceInfo, p.PrimaryPackagePurpose}
				for _, r := range p.PackageExternalReferences {
					if r.RefType == "purl" {
						v.purl = r.Locator
					}
				}
				byID[string(p.PackageSPDXIdentifier)] = v
			}
			root := byID[string(described[0])]
			if root == nil || root.name != d.Name || root.version != d.Subject.String() || root.purpose != "CONTAINER" {
				t.Errorf("described package %+v, want the container %s@%s", root, d.Name, d.Subject)
			}
			// Which image each package is in, by following CONTAINS.
			imageOf := map[string]string{}
			for _, r := range doc.Relationships {
				if r.Relationship == "CONTAINS" && byID[string(r.RefA.ElementRefID)].purpose == "CONTAINER" {
					imageOf[string(r.RefB.ElementRefID)] = byID[string(r.RefA.ElementRefID)].version
				}
			}
			var got []pkgFacts
			oses := 0
			for id, p := range byID {
				switch p.purpose {
				case "CONTAINER":
					continue
				case "OPERATING-SYSTEM":
					if p.name != "debian" || p.version != "12" || imageOf[id] == "" {
						t.Errorf("OS package %+v in image %q", p, imageOf[id])
					}
					oses++
					continue
				}
				f := pkgFacts{Image: imageOf[id], Name: p.name, Version: p.version, PURL: p.purl}
				for _, part := range strings.Split(p.comment, "; ") {
					if eco, ok := strings.CutPrefix(part, "ecosystem: "); ok {
						f.Ecosystem = eco
					}
				}
				if paths, ok := strings.CutPrefix(p.source, "found in the image at "); ok {
					f.Paths = strings.Split(paths, ", ")
				}
				got = append(got, f)
			}
			sortFacts(got)
			if want := expected(d); !reflect.DeepEqual(got, want) {
				t.Errorf("packages:\n got %+v\nwant %+v", got, want)
			}
			if want := countOS(d); oses != want {
				t.Errorf("%d OS packages, want %d", oses, want)
			}
			if doc.CreationInfo.Created != createdText || len(doc.CreationInfo.Creators) != 1 ||
				doc.CreationInfo.Creators[0].Creator != Creator || doc.CreationInfo.Creators[0].CreatorType != "Tool" {
				t.Errorf("creation info %+v", doc.CreationInfo)
			}
		})
	}
}

func countOS(d Document) int {
	n := 0
	for _, img := range d.Images {
		if img.OS != nil {
			n++
		}
	}
	return n
}

// checkSPDXRequired checks what SPDX 2.3 requires that a reader may let
// pass: the mandatory fields, their fixed values and formats.
func checkSPDXRequired(t *testing.T, out []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	idRE := regexp.MustCompile(`^SPDXRef-[0-9a-zA-Z.\-]+$`)
	for k, want := range map[string]string{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT"} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}
	if ns, _ := doc["documentNamespace"].(string); !strings.HasPrefix(ns, "https://") || strings.Contains(ns, "#") {
		t.Errorf("documentNamespace %q: an absolute URI without '#'", ns)
	}
	if name, _ := doc["name"].(string); name == "" {
		t.Error("document has no name")
	}
	// The package properties SPDX 2.3's JSON schema allows (it allows no
	// others), and its enumerations of the ones Berth writes.
	allowed := map[string]bool{}
	for _, k := range strings.Fields(`SPDXID annotations attributionTexts builtDate checksums comment copyrightText
		description downloadLocation externalRefs filesAnalyzed hasFiles homepage licenseComments licenseConcluded
		licenseDeclared licenseInfoFromFiles name originator packageFileName packageVerificationCode
		primaryPackagePurpose releaseDate sourceInfo summary supplier validUntilDate versionInfo`) {
		allowed[k] = true
	}
	purposes := []any{nil, "OTHER", "INSTALL", "ARCHIVE", "FIRMWARE", "APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "SOURCE", "DEVICE", "OPERATING-SYSTEM", "FILE"}
	ids := map[string]bool{}
	for _, p := range doc["packages"].([]any) {
		p := p.(map[string]any)
		for k := range p {
			if !allowed[k] {
				t.Errorf("package property %q: not one of SPDX 2.3's", k)
			}
		}
		if !slices.Contains(purposes, p["primaryPackagePurpose"]) {
			t.Errorf("primaryPackagePurpose %v: not one of SPDX 2.3's", p["primaryPackagePurpose"])
		}
		refs, _ := p["externalRefs"].([]any)
		for _, r := range refs {
			if c := r.(map[string]any)["referenceCategory"]; c != "PACKAGE-MANAGER" {
				t.Errorf("referenceCategory %v, want PACKAGE-MANAGER for a purl", c)
			}
		}
		id, _ := p["SPDXID"].(string)
		if !idRE.MatchString(id) || ids[id] {
			t.Errorf("package SPDXID %q malformed or repeated", id)
		}
		ids[id] = true
		if p["name"] == "" || p["downloadLocation"] != "NOASSERTION" || p["filesAnalyzed"] != false {
			// filesAnalyzed defaults to true, which would require a
			// verification code and the files' list.
			t.Errorf("package %v: name, downloadLocation and filesAnalyzed false are required", p)
		}
	}
}

func TestCycloneDX(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.doc()
			out, err := Encode(CycloneDX, d)
			if err != nil {
				t.Fatal(err)
			}
			checkCycloneDXRequired(t, out)
			// CycloneDX's own Go library reads it as a 1.6 BOM.
			var bom cdx.BOM
			if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
				t.Fatalf("cyclonedx-go cannot read it: %v", err)
			}
			if bom.SpecVersion != cdx.SpecVersion1_6 || bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Timestamp != createdText {
				t.Fatalf("spec %v, metadata %+v", bom.SpecVersion, bom.Metadata)
			}
			if bom.Metadata.Tools == nil || bom.Metadata.Tools.Components == nil || (*bom.Metadata.Tools.Components)[0].Name != Creator {
				t.Errorf("tools %+v, want %s", bom.Metadata.Tools, Creator)
			}
			root := bom.Metadata.Component
			if root.Type != cdx.ComponentTypeContainer || root.Name != d.Name || root.Version != d.Subject.String() {
				t.Errorf("described component %+v, want the container %s@%s", root, d.Name, d.Subject)
			}
			var got []pkgFacts
			oses := 0
			var walk func(image string, cs *[]cdx.Component)
			walk = func(image string, cs *[]cdx.Component) {
				if cs == nil {
					return
				}
				for _, c := range *cs {
					switch c.Type {
					case cdx.ComponentTypeContainer:
						walk(c.Version, c.Components)
						continue
					case cdx.ComponentTypeOS:
						oses++
						continue
					}
					f := pkgFacts{Image: image, Name: c.Name, Version: c.Version, PURL: c.PackageURL}
					if c.Properties != nil {
						for _, p := range *c.Properties {
							if p.Name == "berth:ecosystem" {
								f.Ecosystem = p.Value
							}
						}
					}
					if c.Evidence != nil && c.Evidence.Occurrences != nil {
						for _, o := range *c.Evidence.Occurrences {
							f.Paths = append(f.Paths, o.Location)
						}
					}
					got = append(got, f)
				}
			}
			walk(d.Subject.String(), bom.Components)
			sortFacts(got)
			if want := expected(d); !reflect.DeepEqual(got, want) {
				t.Errorf("packages:\n got %+v\nwant %+v", got, want)
			}
			if want := countOS(d); oses != want {
				t.Errorf("%d operating systems, want %d", oses, want)
			}
		})
	}
}

// checkCycloneDXRequired checks what CycloneDX 1.6 requires that a reader
// may let pass: the fixed fields, the serial number's form, and bom-refs
// unique and resolvable.
func checkCycloneDXRequired(t *testing.T, out []byte) {
	t.Helper()
	var bom struct {
		BOMFormat    string `json:"bomFormat"`
		SpecVersion  string `json:"specVersion"`
		SerialNumber string `json:"serialNumber"`
		Version      int    `json:"version"`
		Metadata     struct {
			Component cdxComponent `json:"component"`
		} `json:"metadata"`
		Components   []cdxComponent  `json:"components"`
		Dependencies []cdxDependency `json:"dependencies"`
	}
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	serialRE := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || bom.Version != 1 || !serialRE.MatchString(bom.SerialNumber) {
		t.Errorf("bomFormat %q specVersion %q version %d serialNumber %q", bom.BOMFormat, bom.SpecVersion, bom.Version, bom.SerialNumber)
	}
	refs := map[string]bool{}
	var walk func(cs []cdxComponent)
	walk = func(cs []cdxComponent) {
		for _, c := range cs {
			if c.Type == "" || c.Name == "" || c.BOMRef == "" || refs[c.BOMRef] {
				t.Errorf("component %+v: type, name and a unique bom-ref are required", c)
			}
			refs[c.BOMRef] = true
			walk(c.Components)
		}
	}
	walk(append([]cdxComponent{bom.Metadata.Component}, bom.Components...))
	for _, dep := range bom.Dependencies {
		for _, r := range append([]string{dep.Ref}, dep.DependsOn...) {
			if !refs[r] {
				t.Errorf("dependency names %q, no component's bom-ref", r)
			}
		}
	}
}

// TestDeterministic: the order the inventory found packages and paths in
// does not change the document, and neither does the clock's zone or
// sub-second part.
func TestDeterministic(t *testing.T) {
	for _, f := range Formats {
		for _, tc := range cases {
			a, err := Encode(f, tc.doc())
			if err != nil {
				t.Fatal(err)
			}
			d := tc.doc()
			d.Created = created.UTC().Truncate(time.Second)
			for _, img := range d.Images {
				slices.Reverse(img.Packages)
				for _, p := range img.Packages {
					slices.Reverse(p.Paths)
				}
			}
			b, err := Encode(f, d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: the same inventory in another order gives another document", f, tc.name)
			}
			// Another repository, another document (its name is in it).
			d.Name = "other/app"
			c, _ := Encode(f, d)
			if bytes.Equal(a, c) {
				t.Errorf("%s %s: two repositories' documents are the same", f, tc.name)
			}
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Format
		d    Document
	}{
		{"unknown format", "SWID", singleDoc()},
		{"no subject", SPDX, Document{Name: "a", Created: created}},
		{"no name", CycloneDX, Document{Subject: dg("x"), Created: created}},
	} {
		if _, err := Encode(tc.f, tc.d); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if SPDX.MediaType() != "application/spdx+json" || CycloneDX.MediaType() != "application/vnd.cyclonedx+json" || Format("X").MediaType() != "" {
		t.Error("media types")
	}
}

// TestCycloneDXSchema validates the documents against CycloneDX's own JSON
// schema for 1.6, the one cyclonedx-go's module ships.
func TestCycloneDXSchema(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("cyclonedx-go's module is not at hand: %v", err)
	}
	schema := filepath.Join(dir, "schema", "bom-1.6.schema.json")
	if _, err := os.Stat(schema); err != nil {
		t.Skipf("no CycloneDX 1.6 schema: %v", err)
	}
	load := func(name string) gojsonschema.JSONLoader {
		return gojsonschema.NewReferenceLoader((&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "schema", name))}).String())
	}
	// The schema names the two it refers to by their cyclonedx.org ids;
	// given first, they are not fetched.
	sl := gojsonschema.NewSchemaLoader()
	if err := sl.AddSchemas(load("spdx.schema.json"), load("jsf-0.82.schemax.json")); err != nil {
		t.Fatal(err)
	}
	compiled, err := sl.Compile(load("bom-1.6.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		doc, err := Encode(CycloneDX, tc.doc())
		if err != nil {
			t.Fatal(err)
		}
		res, err := compiled.Validate(gojsonschema.NewBytesLoader(doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", tc.name, e)
		}
	}
}
