package sbom

import (
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/scan/inventory"
)

// CycloneDX 1.6 JSON, as its JSON schema spells it. Only what Berth fills
// is declared.
type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

// cdxTools is the form CycloneDX 1.5 introduced (the array of tools is
// deprecated).
type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type       string        `json:"type"`
	BOMRef     string        `json:"bom-ref,omitempty"`
	Name       string        `json:"name"`
	Version    string        `json:"version,omitempty"`
	Hashes     []cdxHash     `json:"hashes,omitempty"`
	PURL       string        `json:"purl,omitempty"`
	Properties []cdxProperty `json:"properties,omitempty"`
	Evidence   *cdxEvidence  `json:"evidence,omitempty"`
	// Components nests an index's platform images' packages under each
	// image: CycloneDX's way of saying what an assembly contains.
	Components []cdxComponent `json:"components,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// cdxEvidence says where a package was found: occurrences are CycloneDX's
// field for the locations of a component's evidence.
type cdxEvidence struct {
	Occurrences []cdxOccurrence `json:"occurrences"`
}

type cdxOccurrence struct {
	Location string `json:"location"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// propertyPrefix namespaces Berth's properties, as CycloneDX asks of names
// outside its own taxonomy.
const propertyPrefix = "berth:"

func encodeCycloneDX(d *Document) ([]byte, error) {
	created := timestamp(d.Created)
	gen := newIDs("")
	image := func(ref string, dg digest.Digest, p inventory.Platform) cdxComponent {
		c := cdxComponent{Type: "container", BOMRef: ref, Name: d.Name, Version: dg.String(), Hashes: cdxHashes(dg), PURL: imagePURL(d.Name, dg, p)}
		if p.OS != "" {
			c.Properties = []cdxProperty{{propertyPrefix + "platform", p.String()}}
		}
		return c
	}
	contents := func(img inventory.Image) []cdxComponent {
		var out []cdxComponent
		if img.OS != nil && img.OS.ID != "" {
			c := cdxComponent{Type: "operating-system", BOMRef: gen.next("os", img.Digest.String(), img.OS.ID, img.OS.VersionID),
				Name: img.OS.ID, Version: img.OS.VersionID}
			if img.OS.PrettyName != "" {
				c.Properties = []cdxProperty{{propertyPrefix + "pretty_name", img.OS.PrettyName}}
			}
			out = append(out, c)
		}
		for _, p := range sortedPackages(img.Packages) {
			// "library" as other scanners write it: CycloneDX's
			// component types say what a thing is for, which an
			// inventory does not know.
			c := cdxComponent{Type: "library", BOMRef: gen.next("package", img.Digest.String(), p.Ecosystem, p.Name, p.Version, p.PURL, p.Extractor),
				Name: p.Name, Version: p.Version, PURL: p.PURL}
			for _, n := range packageNotes(p) {
				c.Properties = append(c.Properties, cdxProperty{propertyPrefix + n.name, n.value})
			}
			if len(p.Paths) > 0 {
				c.Evidence = &cdxEvidence{}
				for _, path := range p.Paths {
					c.Evidence.Occurrences = append(c.Evidence.Occurrences, cdxOccurrence{Location: path})
				}
			}
			out = append(out, c)
		}
		return out
	}
	refs := func(cs []cdxComponent) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.BOMRef
		}
		return out
	}

	const rootRef = "image"
	bom := cdxBOM{
		BOMFormat:    "CycloneDX",
		SpecVersion:  "1.6",
		SerialNumber: "urn:uuid:" + uuid(string(CycloneDX), d.Name, d.Subject.String(), created),
		Version:      1,
		Metadata: cdxMetadata{
			Timestamp: created,
			Tools:     cdxTools{Components: []cdxComponent{{Type: "application", Name: Creator}}},
		},
		Components:   []cdxComponent{},
		Dependencies: []cdxDependency{},
	}
	// The dependency graph says what contains what, as the nesting does;
	// tools that draw graphs read this one.
	if !d.isIndex() {
		img := d.Images[0]
		bom.Metadata.Component = image(rootRef, d.Subject, img.Platform)
		bom.Components = append(bom.Components, contents(img)...)
		bom.Dependencies = append(bom.Dependencies, cdxDependency{Ref: rootRef, DependsOn: refs(bom.Components)})
		return marshal(bom)
	}
	bom.Metadata.Component = image(rootRef, d.Subject, inventory.Platform{})
	root := cdxDependency{Ref: rootRef}
	for _, img := range d.Images {
		c := image(gen.next("image", img.Digest.String()), img.Digest, img.Platform)
		c.Components = contents(img)
		root.DependsOn = append(root.DependsOn, c.BOMRef)
		bom.Dependencies = append(bom.Dependencies, cdxDependency{Ref: c.BOMRef, DependsOn: refs(c.Components)})
		bom.Components = append(bom.Components, c)
	}
	bom.Dependencies = append([]cdxDependency{root}, bom.Dependencies...)
	return marshal(bom)
}

func cdxHashes(d digest.Digest) []cdxHash {
	alg := map[digest.Algorithm]string{digest.SHA256: "SHA-256", digest.SHA384: "SHA-384", digest.SHA512: "SHA-512"}[d.Algorithm()]
	if alg == "" {
		return nil
	}
	return []cdxHash{{Alg: alg, Content: d.Encoded()}}
}
