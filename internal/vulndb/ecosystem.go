package vulndb

import (
	"regexp"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
)

// ecosystems are OSV's ecosystem names as OSV spells them, by lower case:
// records and inventories that spell one otherwise still meet.
var ecosystems = func() map[string]string {
	m := map[string]string{}
	for _, e := range []string{
		"AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers",
		"Bioconductor", "Bitnami", "Chainguard", "ConanCenter", "CRAN", "crates.io", "Debian",
		"Docker Hardened Images", "Echo", "GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia",
		"Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet", "openEuler", "openSUSE", "OSS-Fuzz",
		"Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "RubyGems", "SUSE",
		"SwiftURL", "Ubuntu", "VSCode", "Wolfi",
	} {
		m[strings.ToLower(e)] = e
	}
	return m
}()

// Base returns an ecosystem without its release: "Debian" for "Debian:12".
// The base is what an import replaces and what status lists.
func Base(ecosystem string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	return base
}

var (
	debianRelease = regexp.MustCompile(`^(\d+)(\.\d+)*$`)
	alpineRelease = regexp.MustCompile(`^v?(\d+\.\d+)(\.\d+)*$`)
	ubuntuLTS     = regexp.MustCompile(`^\d*[02468]\.04$`)
	// debianCodenames are the releases OSV knows, by the names
	// /etc/os-release's VERSION_CODENAME gives them.
	debianCodenames = map[string]string{
		"jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
	}
)

// NormalizeEcosystem returns an ecosystem as OSV spells it, its release
// included where the ecosystem has one: "debian:12.5" and "Debian:bookworm"
// become "Debian:12", "alpine:3.19.1" becomes "Alpine:v3.19", Ubuntu's
// "22.04" becomes "22.04:LTS". An unknown ecosystem is kept as it is.
func NormalizeEcosystem(ecosystem string) string {
	base, release, hasRelease := strings.Cut(strings.TrimSpace(ecosystem), ":")
	if canon, ok := ecosystems[strings.ToLower(base)]; ok {
		base = canon
	}
	if !hasRelease {
		return base
	}
	switch base {
	case "Debian":
		if m := debianRelease.FindStringSubmatch(release); m != nil {
			release = m[1]
		} else if n, ok := debianCodenames[strings.ToLower(release)]; ok {
			release = n
		}
	case "Alpine":
		if m := alpineRelease.FindStringSubmatch(release); m != nil {
			release = "v" + m[1]
		}
	case "Ubuntu":
		if ubuntuLTS.MatchString(release) {
			release += ":LTS"
		}
	}
	return base + ":" + release
}

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// NormalizeName returns a package's name as lookups key it. PyPI's names
// are compared as PEP 503 normalises them ("Django", "zope.interface" and
// "Zope_Interface" are "django", "zope-interface"); every other
// ecosystem's as they are spelled, which is how their tools compare them.
func NormalizeName(ecosystem, name string) string {
	if Base(ecosystem) == "PyPI" {
		return pypiSeparators.ReplaceAllString(strings.ToLower(name), "-")
	}
	return name
}

// key is the lookup key of a package as a record names it.
func key(p *AffectedPackage) meta.VulnKey {
	eco := NormalizeEcosystem(p.Ecosystem)
	return meta.VulnKey{Ecosystem: eco, Name: NormalizeName(eco, p.Name)}
}
