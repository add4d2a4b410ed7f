// Package sbom writes an image's inventory (package inventory) as a
// software bill of materials in one of the two formats tools read: SPDX 2.3
// JSON and CycloneDX 1.6 JSON.
//
// The documents are written from Berth's own structs rather than through
// the formats' Go libraries: each format needs a few dozen fields, and the
// libraries bring every field of their specifications (and, for SPDX,
// YAML and RDF readers) into the binary. The tests read every document
// back with those libraries, so a field spelled wrong or placed wrong
// shows there.
//
// Output is deterministic: the same inventory, subject and creation time
// give the same bytes, so the same image scanned on two nodes, or attached
// twice, yields one document digest.
package sbom

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/scan/inventory"
)

// Format is an SBOM format, named as the BERTH_SCAN_SBOM account setting
// names it.
type Format string

const (
	SPDX      Format = "SPDX"
	CycloneDX Format = "CYCLONEDX"
)

// Formats are the formats Encode writes.
var Formats = []Format{SPDX, CycloneDX}

// Media types of the documents, which are also the artifact types of the
// OCI artifacts that carry them (as oras and the OCI image spec's guidance
// on artifacts use them).
const (
	MediaTypeSPDX      = "application/spdx+json"
	MediaTypeCycloneDX = "application/vnd.cyclonedx+json"
)

// MediaType returns the format's media type; "" for an unknown format.
func (f Format) MediaType() string {
	switch f {
	case SPDX:
		return MediaTypeSPDX
	case CycloneDX:
		return MediaTypeCycloneDX
	}
	return ""
}

// Creator is the tool the documents name as their author.
const Creator = "Berth"

// Document is what an SBOM describes: the image (or index) Subject of
// repository Name, whose inventory is Images.
type Document struct {
	// Name is the repository the SBOM is attached in; it names the
	// document and the described image.
	Name string
	// Subject is the digest of the image manifest or index described.
	Subject digest.Digest
	// Created is when the inventory was taken; written to the second, in
	// UTC.
	Created time.Time
	// Images is the inventory: one image when Subject is an image
	// manifest (its Digest is Subject), one per platform when Subject is
	// an index.
	Images []inventory.Image
}

// isIndex reports whether the subject is an index whose platforms are the
// images, rather than the one image itself.
func (d *Document) isIndex() bool {
	return len(d.Images) != 1 || d.Images[0].Digest != d.Subject
}

// Encode writes d in format f.
func Encode(f Format, d Document) ([]byte, error) {
	if err := d.Subject.Validate(); err != nil {
		return nil, fmt.Errorf("sbom subject %q: %w", d.Subject, err)
	}
	if d.Name == "" {
		return nil, fmt.Errorf("sbom of %s: no repository name", d.Subject)
	}
	switch f {
	case SPDX:
		return encodeSPDX(&d)
	case CycloneDX:
		return encodeCycloneDX(&d)
	}
	return nil, fmt.Errorf("sbom format %q: must be one of %s or %s", f, SPDX, CycloneDX)
}

// timestamp is the creation time as both formats want it: RFC 3339 in
// UTC, to the second (SPDX's "YYYY-MM-DDThh:mm:ssZ").
func timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// sortedPackages returns a copy of an image's packages in a fixed order,
// each with its paths sorted: an inventory lists them in the order the
// walk found them, which depends on the layers' order of files.
func sortedPackages(pkgs []inventory.Package) []inventory.Package {
	out := make([]inventory.Package, len(pkgs))
	for i, p := range pkgs {
		p.Paths = slices.Clone(p.Paths)
		slices.Sort(p.Paths)
		out[i] = p
	}
	slices.SortFunc(out, func(a, b inventory.Package) int {
		return cmp.Or(cmp.Compare(a.Ecosystem, b.Ecosystem), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.PURL, b.PURL), cmp.Compare(a.Extractor, b.Extractor), slices.Compare(a.Paths, b.Paths))
	})
	return out
}

// ids hands out identifiers derived from what they identify, so that they
// stay the same from one scan to the next whatever else the image holds;
// the rare repeat (one package found twice by one extractor) takes a
// suffix.
type ids struct {
	prefix string
	seen   map[string]int
}

func newIDs(prefix string) *ids { return &ids{prefix: prefix, seen: map[string]int{}} }

func (g *ids) next(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	id := g.prefix + hex.EncodeToString(h[:8])
	g.seen[id]++
	if n := g.seen[id]; n > 1 {
		id = fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

// uuid is a name-based UUID (version 5's layout, over SHA-256) of parts:
// the same document gets the same identifier, a different one another.
func uuid(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// imagePURL is the package URL of an image of repository name: purl's oci
// type, named by the repository's last component, the digest as version.
func imagePURL(name string, d digest.Digest, p inventory.Platform) string {
	last := name[strings.LastIndexByte(name, '/')+1:]
	s := "pkg:oci/" + strings.ToLower(last) + "@" + strings.ReplaceAll(d.String(), ":", "%3A")
	if p.Architecture != "" {
		s += "?arch=" + p.Architecture
	}
	return s
}

// packageNotes are the facts of a package neither format has a field for.
func packageNotes(p inventory.Package) []note {
	var out []note
	add := func(name, value string) {
		if value != "" {
			out = append(out, note{name, value})
		}
	}
	add("ecosystem", p.Ecosystem)
	add("source_name", p.SourceName)
	add("source_version", p.SourceVersion)
	add("extractor", p.Extractor)
	return out
}

type note struct{ name, value string }
