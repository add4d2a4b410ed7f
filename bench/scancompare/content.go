package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The application layer of the real-content image: what a Dockerfile's
// COPY, pip install and npm install would leave, at versions with published
// advisories (bench/scancompare/testdata/osv/README.md lists them).
const (
	sitePackages = "usr/local/lib/python3.11/site-packages/"
	nodeApp      = "app/"
)

// goModules are the modules the Go binary is built with: old versions with
// records in the Go vulnerability database (and no requirements that would
// raise each other).
var goModules = []string{
	"golang.org/x/text@v0.3.0",
	"gopkg.in/yaml.v2@v2.2.2",
	"github.com/dgrijalva/jwt-go@v3.2.0+incompatible",
}

const goMain = `package main

import (
	"fmt"

	jwt "github.com/dgrijalva/jwt-go"
	"golang.org/x/text/language"
	yaml "gopkg.in/yaml.v2"
)

func main() {
	var v map[string]string
	_ = yaml.Unmarshal([]byte("greeting: hello"), &v)
	t := jwt.New(jwt.SigningMethodHS256)
	fmt.Println(language.MustParse("en-GB"), v["greeting"], t.Valid)
}
`

// buildGoBinary builds the program above with this machine's Go, as a
// multi-stage Dockerfile's build stage would.
func buildGoBinary(ctx context.Context, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	env := append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOOS=linux", "GOARCH=amd64")
	steps := [][]string{
		{"go", "mod", "init", "example.com/app"},
		append([]string{"go", "get"}, goModules...),
		{"go", "mod", "tidy"},
		{"go", "build", "-trimpath", "-o", "app", "."},
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goMain), 0o644); err != nil {
		return "", err
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, s[0], s[1:]...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return filepath.Join(dir, "app"), nil
}

const urllib3Summary = "HTTP library with thread-safe connection pooling, file post, and more."

// pythonPackages are pip's installs in the application layer: name,
// version, summary.
var pythonPackages = [][3]string{
	{"requests", "2.19.0", "Python HTTP for Humans."},
	{"urllib3", "1.24.1", urllib3Summary},
	{"Django", "3.2.19", "A high-level Python Web framework that encourages rapid development and clean, pragmatic design."},
	{"PyYAML", "5.3", "YAML parser and emitter for Python"},
	{"idna", "3.7", "Internationalized Domain Names in Applications (IDNA)"},
}

// distInfo is a wheel's installed metadata, as pip writes it: METADATA
// (the fields wheels carry; scanners read Name and Version), INSTALLER.
func distInfo(lw *layerWriter, name, version, summary string) error {
	dir := sitePackages + name + "-" + version + ".dist-info/"
	meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nLicense: see the project\nRequires-Python: >=2.7\n\n", name, version, summary)
	if err := lw.bytes(dir+"METADATA", 0o644, []byte(meta)); err != nil {
		return err
	}
	return lw.bytes(dir+"INSTALLER", 0o644, []byte("pip\n"))
}

// npmPackage is one package of the node_modules tree.
type npmPackage struct {
	path        string // under app/, e.g. node_modules/mkdirp/node_modules/minimist
	name        string
	version     string
	description string
	deps        map[string]string
}

var npmTree = []npmPackage{
	{path: "node_modules/lodash", name: "lodash", version: "4.17.15", description: "Lodash modular utilities."},
	{path: "node_modules/minimist", name: "minimist", version: "1.2.0", description: "parse argument options"},
	{path: "node_modules/mkdirp", name: "mkdirp", version: "0.5.1", description: "Recursively mkdir, like `mkdir -p`",
		deps: map[string]string{"minimist": "0.0.8"}},
	{path: "node_modules/mkdirp/node_modules/minimist", name: "minimist", version: "0.0.8", description: "parse argument options"},
	{path: "node_modules/ws", name: "ws", version: "7.4.5", description: "Simple to use, blazing fast and thoroughly tested websocket client and server for Node.js"},
	{path: "node_modules/@babel/traverse", name: "@babel/traverse", version: "7.22.5", description: "The Babel Traverse module maintains the overall tree state, and is responsible for replacing, removing, and adding nodes"},
	{path: "node_modules/ms", name: "ms", version: "2.1.3", description: "Tiny millisecond conversion utility"},
}

// nodeModules writes the tree: each package's package.json, the
// application's own, and the hidden lockfile npm 7 and later keep in
// node_modules (.package-lock.json), which is what osv-scanner reads.
func nodeModules(lw *layerWriter) error {
	lock := map[string]any{}
	appDeps := map[string]string{}
	for _, p := range npmTree {
		pj := map[string]any{"name": p.name, "version": p.version, "description": p.description, "license": "MIT", "main": "index.js"}
		entry := map[string]any{"version": p.version,
			"resolved": fmt.Sprintf("https://registry.npmjs.org/%s/-/%s-%s.tgz", p.name, p.name[strings.LastIndex(p.name, "/")+1:], p.version),
			"license":  "MIT"}
		if len(p.deps) > 0 {
			pj["dependencies"], entry["dependencies"] = p.deps, p.deps
		}
		b, _ := json.MarshalIndent(pj, "", "  ")
		if err := lw.bytes(nodeApp+p.path+"/package.json", 0o644, append(b, '\n')); err != nil {
			return err
		}
		lock[p.path] = entry
		if strings.Count(p.path, "node_modules/") == 1 {
			appDeps[p.name] = "^" + p.version
		}
	}
	b, _ := json.MarshalIndent(map[string]any{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": lock}, "", "  ")
	if err := lw.bytes(nodeApp+"node_modules/.package-lock.json", 0o644, append(b, '\n')); err != nil {
		return err
	}
	b, _ = json.MarshalIndent(map[string]any{"name": "app", "version": "1.0.0", "private": true, "dependencies": appDeps}, "", "  ")
	return lw.bytes(nodeApp+"package.json", 0o644, append(b, '\n'))
}

// globalNPM is a globally installed npm CLI (as the node images carry it)
// with a bundled dependency: npm ships its dependencies inside its own
// package, and no hidden lockfile lists them.
func globalNPM(lw *layerWriter) error {
	for _, p := range []struct{ dir, name, version string }{
		{"usr/local/lib/node_modules/npm/", "npm", "10.2.4"},
		{"usr/local/lib/node_modules/npm/node_modules/ip/", "ip", "2.0.0"},
	} {
		b, _ := json.MarshalIndent(map[string]any{"name": p.name, "version": p.version, "license": "MIT"}, "", "  ")
		if err := lw.bytes(p.dir+"package.json", 0o644, append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// buildRealImage makes the real-content image: the Debian root, the
// application (a Go binary, Python packages, a node_modules tree), and a
// layer that uninstalls one Python package and upgrades another, as a
// later RUN pip would (whiteouts of their dist-info directories).
func buildRealImage(ctx context.Context, o options) (*image, error) {
	dir := filepath.Join(o.work, "real")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	img := &image{name: "real-content"}
	// 1: the Debian root filesystem.
	lw, err := newLayerWriter(filepath.Join(dir, "layer-debian"))
	if err != nil {
		return nil, err
	}
	if err := lw.dir(o.debianRoot); err != nil {
		return nil, err
	}
	l, err := lw.close()
	if err != nil {
		return nil, err
	}
	img.layers = append(img.layers, l)

	// 2: the application.
	bin, err := buildGoBinary(ctx, filepath.Join(o.work, "gobuild"))
	if err != nil {
		return nil, err
	}
	binBytes, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	if lw, err = newLayerWriter(filepath.Join(dir, "layer-app")); err != nil {
		return nil, err
	}
	if err := lw.bytes("usr/local/bin/app", 0o755, binBytes); err != nil {
		return nil, err
	}
	for _, p := range pythonPackages {
		if err := distInfo(lw, p[0], p[1], p[2]); err != nil {
			return nil, err
		}
	}
	if err := nodeModules(lw); err != nil {
		return nil, err
	}
	if err := globalNPM(lw); err != nil {
		return nil, err
	}
	if l, err = lw.close(); err != nil {
		return nil, err
	}
	img.layers = append(img.layers, l)

	// 3: pip uninstall PyYAML; pip install urllib3==1.26.18.
	if lw, err = newLayerWriter(filepath.Join(dir, "layer-pip")); err != nil {
		return nil, err
	}
	for _, name := range []string{"PyYAML-5.3", "urllib3-1.24.1"} {
		if err := lw.whiteout(sitePackages + name + ".dist-info"); err != nil {
			return nil, err
		}
	}
	if err := distInfo(lw, "urllib3", "1.26.18", urllib3Summary); err != nil {
		return nil, err
	}
	if l, err = lw.close(); err != nil {
		return nil, err
	}
	img.layers = append(img.layers, l)
	img.note = "Debian root, Go binary, Python and npm packages, a pip layer with whiteouts"
	if err := img.writeArchive(filepath.Join(dir, "image.tar"), "berth.test/real-content:v1"); err != nil {
		return nil, err
	}
	return img, nil
}
