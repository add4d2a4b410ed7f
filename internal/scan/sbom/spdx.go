package sbom

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/scan/inventory"
)

// SPDX 2.3 JSON, as its JSON schema spells it. Only what Berth fills is
// declared.
type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID           string         `json:"SPDXID"`
	Name             string         `json:"name"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	SourceInfo       string         `json:"sourceInfo,omitempty"`
	LicenseConcluded string         `json:"licenseConcluded"`
	LicenseDeclared  string         `json:"licenseDeclared"`
	CopyrightText    string         `json:"copyrightText"`
	Comment          string         `json:"comment,omitempty"`
	ExternalRefs     []spdxExtRef   `json:"externalRefs,omitempty"`
	// PrimaryPackagePurpose is CONTAINER for images, OPERATING-SYSTEM for
	// the distribution; unset for packages, whose purpose (library,
	// application) the inventory does not know.
	PrimaryPackagePurpose string `json:"primaryPackagePurpose,omitempty"`
}

type spdxChecksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxExtRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

// noAssertion is SPDX's "the creator says nothing about this": Berth does
// not read licenses or copyrights, nor know where a package was fetched
// from.
const noAssertion = "NOASSERTION"

const spdxDocumentID = "SPDXRef-DOCUMENT"

func encodeSPDX(d *Document) ([]byte, error) {
	created := timestamp(d.Created)
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0", // the only value SPDX 2.3 allows
		SPDXID:      spdxDocumentID,
		Name:        d.Name + "@" + d.Subject.String(),
		// A unique URI per document, as SPDX asks; derived from what the
		// document describes, so that writing it again gives the same one.
		DocumentNamespace: "https://spdx.org/spdxdocs/berth-" + uuid(string(SPDX), d.Name, d.Subject.String(), created),
		CreationInfo:      spdxCreationInfo{Created: created, Creators: []string{"Tool: " + Creator}},
		Packages:          []spdxPackage{},
		Relationships:     []spdxRelationship{},
	}
	gen := newIDs("SPDXRef-Package-")
	relate := func(a, rel, b string) {
		doc.Relationships = append(doc.Relationships, spdxRelationship{a, rel, b})
	}
	image := func(id string, dg digest.Digest, p inventory.Platform, what string) {
		pkg := spdxPackage{
			SPDXID: id, Name: d.Name, VersionInfo: dg.String(),
			DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
			Checksums:             spdxChecksums(dg),
			ExternalRefs:          []spdxExtRef{purlRef(imagePURL(d.Name, dg, p))},
			PrimaryPackagePurpose: "CONTAINER",
			Comment:               what,
		}
		doc.Packages = append(doc.Packages, pkg)
	}

	const rootID = "SPDXRef-Image"
	index := d.isIndex()
	if index {
		image(rootID, d.Subject, inventory.Platform{}, "image index")
	}
	relate(spdxDocumentID, "DESCRIBES", rootID)
	for _, img := range d.Images {
		imgID := rootID
		if index {
			imgID = gen.next("image", img.Digest.String())
			relate(rootID, "CONTAINS", imgID)
		}
		image(imgID, img.Digest, img.Platform, "image for "+img.Platform.String())
		if img.OS != nil && img.OS.ID != "" {
			osID := gen.next("os", img.Digest.String(), img.OS.ID, img.OS.VersionID)
			doc.Packages = append(doc.Packages, spdxPackage{
				SPDXID: osID, Name: img.OS.ID, VersionInfo: img.OS.VersionID,
				DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
				Comment:               img.OS.PrettyName,
				PrimaryPackagePurpose: "OPERATING-SYSTEM",
			})
			relate(imgID, "CONTAINS", osID)
		}
		for _, p := range sortedPackages(img.Packages) {
			id := gen.next("package", img.Digest.String(), p.Ecosystem, p.Name, p.Version, p.PURL, p.Extractor)
			pkg := spdxPackage{
				SPDXID: id, Name: p.Name, VersionInfo: p.Version,
				DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
			}
			if len(p.Paths) > 0 {
				pkg.SourceInfo = "found in the image at " + strings.Join(p.Paths, ", ")
			}
			var notes []string
			for _, n := range packageNotes(p) {
				notes = append(notes, n.name+": "+n.value)
			}
			pkg.Comment = strings.Join(notes, "; ")
			if p.PURL != "" {
				pkg.ExternalRefs = []spdxExtRef{purlRef(p.PURL)}
			}
			doc.Packages = append(doc.Packages, pkg)
			relate(imgID, "CONTAINS", id)
		}
	}
	return marshal(doc)
}

func purlRef(purl string) spdxExtRef {
	return spdxExtRef{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: purl}
}

// spdxChecksums gives an image's digest as the checksum of its manifest,
// which is what the digest is.
func spdxChecksums(d digest.Digest) []spdxChecksum {
	alg := map[digest.Algorithm]string{digest.SHA256: "SHA256", digest.SHA384: "SHA384", digest.SHA512: "SHA512"}[d.Algorithm()]
	if alg == "" {
		return nil
	}
	return []spdxChecksum{{Algorithm: alg, ChecksumValue: d.Encoded()}}
}

// marshal writes a document indented, as people read SBOMs too, and
// without HTML escaping, which would turn a version's "<" or "&" into
// escapes for no reader's benefit.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
