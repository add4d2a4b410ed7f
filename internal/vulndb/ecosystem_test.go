package vulndb

import "testing"

func TestNormalizeEcosystem(t *testing.T) {
	for in, want := range map[string]string{
		"Go":                   "Go",
		"go":                   "Go",
		"pypi":                 "PyPI",
		"NPM":                  "npm",
		"crates.io":            "crates.io",
		"red hat":              "Red Hat",
		"Debian:12":            "Debian:12",
		"debian:12.5":          "Debian:12",
		"Debian:bookworm":      "Debian:12",
		"Debian:11":            "Debian:11",
		"Alpine:v3.19":         "Alpine:v3.19",
		"alpine:3.19.1":        "Alpine:v3.19",
		"Alpine:3.18":          "Alpine:v3.18",
		"Alpine:edge":          "Alpine:edge",
		"Ubuntu:22.04":         "Ubuntu:22.04:LTS",
		"Ubuntu:23.10":         "Ubuntu:23.10",
		"Ubuntu:22.04:LTS":     "Ubuntu:22.04:LTS",
		"Ubuntu:Pro:18.04:LTS": "Ubuntu:Pro:18.04:LTS",
		"Some Future Eco":      "Some Future Eco",
	} {
		if got := NormalizeEcosystem(in); got != want {
			t.Errorf("NormalizeEcosystem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ eco, name, want string }{
		{"PyPI", "Django", "django"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "Zope__Interface", "zope-interface"},
		{"PyPI", "ruamel.yaml.clib", "ruamel-yaml-clib"},
		{"npm", "@babel/core", "@babel/core"},
		{"Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-core"},
		{"Debian:12", "libc6", "libc6"},
	} {
		if got := NormalizeName(tc.eco, tc.name); got != tc.want {
			t.Errorf("NormalizeName(%s, %q) = %q, want %q", tc.eco, tc.name, got, tc.want)
		}
	}
}
