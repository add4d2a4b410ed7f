package inventory

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	apkmeta "github.com/google/osv-scalibr/extractor/filesystem/os/apk/metadata"
	dpkgmeta "github.com/google/osv-scalibr/extractor/filesystem/os/dpkg/metadata"
	"github.com/google/osv-scalibr/extractor/filesystem/os/osrelease"
	rpmmeta "github.com/google/osv-scalibr/extractor/filesystem/os/rpm/metadata"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/purl"
)

// smallFileBytes is the size up to which a file an extractor wants is
// read into memory (one buffer, reused); a larger one is spooled to the
// scratch directory, so memory stays bounded whatever the files' sizes.
const smallFileBytes = 1 << 20

// maxOSReleaseBytes bounds an os-release file; real ones are a few
// hundred bytes.
const maxOSReleaseBytes = 64 << 10

// osReleasePaths are where os-release lives, in the order it is looked for.
var osReleasePaths = []string{"etc/os-release", "usr/lib/os-release"}

// collector gathers the packages of one image as its filesystem is walked.
type collector struct {
	ctx  context.Context
	opts Options
	log  *slog.Logger
	exs  []extractorSpec
	// root holds the files written for fromDisk extractors at their paths
	// in the image, and nothing else: no symbolic link is ever written
	// there, so no path under it leads outside.
	root    *os.Root
	rootDir string
	fsys    scalibrfs.FS
	spool   string // directory for spooled files
	buf     []byte

	deferred []deferredFile
	// osLinks maps an os-release path that is a symbolic link in the image
	// to its target, resolved in the image (Debian's etc/os-release points
	// at ../usr/lib/os-release).
	osLinks map[string]string
	found   []found

	filesExamined int
	bytesSpooled  int64
}

type deferredFile struct {
	name string
	info fs.FileInfo
	exs  []extractorSpec
}

type found struct {
	pkg       *extractor.Package
	extractor string
}

func newCollector(ctx context.Context, scratch string, exs []extractorSpec, opts Options, log *slog.Logger) (*collector, error) {
	rootDir := filepath.Join(scratch, "root")
	spool := filepath.Join(scratch, "spool")
	// etc always exists in root: scalibr's os-release reader gives up
	// without it, even when usr/lib/os-release is there.
	for _, d := range []string{filepath.Join(rootDir, "etc"), spool} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	return &collector{
		ctx: ctx, opts: opts, log: log, exs: exs,
		root: root, rootDir: rootDir, fsys: scalibrfs.DirFS(rootDir), spool: spool,
		osLinks: make(map[string]string),
	}, nil
}

func (c *collector) close() { c.root.Close() }

// visit is the walk's visitFunc.
func (c *collector) visit(name string, hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		if slices.Contains(osReleasePaths, name) {
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			c.osLinks[name] = cleanName(target)
		}
		return nil
	case tar.TypeReg:
	default:
		// Hard links, devices, FIFOs. A hard link to a file an extractor
		// wants is seen at the path it links to, in the same layer.
		return nil
	}
	if slices.Contains(osReleasePaths, name) {
		if hdr.Size > maxOSReleaseBytes {
			c.log.Warn("os-release is too large to be one; ignored", "path", "/"+name, "bytes", hdr.Size)
			return nil
		}
		return c.write(name, r)
	}
	info := hdr.FileInfo()
	api := fileAPI{path: name, info: info}
	var want []extractorSpec
	onDisk, binaryOnly := false, true
	for _, e := range c.exs {
		if e.ex.FileRequired(api) {
			want = append(want, e)
			onDisk = onDisk || e.kind == fromDisk
			binaryOnly = binaryOnly && e.kind == fromBinary
		}
	}
	if len(want) == 0 {
		return nil
	}
	if hdr.Size > c.opts.MaxFileBytes {
		c.log.Warn("file too large to examine; skipped", "path", "/"+name, "bytes", hdr.Size, "limit", c.opts.MaxFileBytes)
		return nil
	}
	c.filesExamined++
	if onDisk {
		if err := c.write(name, r); err != nil {
			return err
		}
		c.deferred = append(c.deferred, deferredFile{name: name, info: info, exs: want})
		return nil
	}
	if binaryOnly {
		var head [4]byte
		n, err := io.ReadFull(r, head[:])
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if !executableFormat(head[:n]) {
			return nil
		}
		r = io.MultiReader(bytes.NewReader(head[:n]), r)
	}
	content, done, err := c.content(hdr.Size, r)
	if err != nil {
		return err
	}
	defer done()
	for _, e := range want {
		c.extract(e, name, info, content)
	}
	return nil
}

// content gives a file's bytes to extractors, which want to read at
// offsets (ELF sections, zip directories): from memory when small, else
// from a spooled copy that done removes.
func (c *collector) content(size int64, r io.Reader) (io.ReadSeeker, func(), error) {
	if size <= smallFileBytes {
		if int64(cap(c.buf)) < size {
			c.buf = make([]byte, size)
		}
		b := c.buf[:size]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, nil, err
		}
		return bytes.NewReader(b), func() {}, nil
	}
	f, err := os.CreateTemp(c.spool, "file-")
	if err != nil {
		return nil, nil, fmt.Errorf("spool a file to scratch: %w", err)
	}
	done := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.Copy(f, r)
	c.bytesSpooled += n
	if err != nil {
		done()
		var rf *readFault
		if errors.As(err, &rf) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("spool a file to scratch: %w", err)
	}
	return f, done, nil
}

// write copies a file of the image into root, at its path.
func (c *collector) write(name string, r io.Reader) error {
	if dir := path.Dir(name); dir != "." {
		if err := c.root.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("scratch copy of /%s: %w", name, err)
		}
	}
	f, err := c.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("scratch copy of /%s: %w", name, err)
	}
	n, err := io.Copy(f, r)
	c.bytesSpooled += n
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		var rf *readFault
		if errors.As(err, &rf) {
			return err
		}
		return fmt.Errorf("scratch copy of /%s: %w", name, err)
	}
	return nil
}

// finish runs the fromDisk extractors once the whole image has been
// walked, and returns the image's OS.
func (c *collector) finish() *OS {
	for link, target := range c.osLinks {
		if _, err := c.root.Stat(link); err == nil {
			continue
		}
		if err := c.copyWithin(target, link); err != nil {
			c.log.Debug("os-release link leads nowhere readable", "path", "/"+link, "target", "/"+target, "err", err)
		}
	}
	var osInfo *OS
	if m, err := osrelease.GetOSRelease(c.fsys); err == nil && len(m) > 0 {
		osInfo = &OS{ID: m["ID"], VersionID: m["VERSION_ID"], VersionCodename: m["VERSION_CODENAME"], PrettyName: m["PRETTY_NAME"]}
	}
	for _, d := range c.deferred {
		f, err := c.root.Open(d.name)
		if err != nil {
			c.log.Warn("scratch copy vanished", "path", "/"+d.name, "err", err)
			continue
		}
		for _, e := range d.exs {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				c.log.Warn("rewind scratch copy", "path", "/"+d.name, "err", err)
				break
			}
			c.extract(e, d.name, d.info, f)
		}
		f.Close()
	}
	return osInfo
}

// copyWithin copies the file at from to to, both in root; only the
// os-release files the walk wrote can be there to copy.
func (c *collector) copyWithin(from, to string) error {
	src, err := c.root.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	return c.write(to, io.LimitReader(src, maxOSReleaseBytes))
}

// extract runs one extractor on one file. An extractor that fails on a file
// (a malformed package.json, a truncated jar) is logged and the inventory
// goes on: the file is the image's, and the rest of the image is still
// worth listing.
func (c *collector) extract(e extractorSpec, name string, info fs.FileInfo, r io.ReadSeeker) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		c.log.Warn("rewind file", "path", "/"+name, "err", err)
		return
	}
	inv, err := e.ex.Extract(c.ctx, &filesystem.ScanInput{
		FS: c.fsys, Path: name, Root: c.rootDir, Info: info, Reader: r,
	})
	if err != nil {
		c.log.Info("extractor failed on a file", "extractor", e.ex.Name(), "path", "/"+name, "err", err)
	}
	for _, p := range inv.Packages {
		c.found = append(c.found, found{pkg: p, extractor: e.ex.Name()})
	}
}

// packages converts what the extractors found into Packages, one per
// ecosystem, name, version and PURL, with every path it was found at.
func (c *collector) packages() []Package {
	byKey := make(map[string]int)
	var out []Package
	for _, f := range c.found {
		p := convert(f.pkg, f.extractor)
		if p.Name == "" || p.Version == "" {
			continue
		}
		key := p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.PURL
		if i, ok := byKey[key]; ok {
			out[i].Paths = append(out[i].Paths, p.Paths...)
			continue
		}
		byKey[key] = len(out)
		out = append(out, p)
	}
	for i := range out {
		slices.Sort(out[i].Paths)
		out[i].Paths = slices.Compact(out[i].Paths)
	}
	slices.SortFunc(out, func(a, b Package) int {
		if c := strings.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out
}

// convert turns a scalibr package into Berth's, in the spelling OSV's
// records use.
func convert(p *extractor.Package, extractorName string) Package {
	out := Package{
		Name:      p.Name,
		Version:   p.Version,
		Ecosystem: p.Ecosystem().String(),
		Extractor: extractorName,
	}
	if u := p.PURL(); u != nil {
		if u.Type == purl.TypeNPM {
			// scalibr notes which lockfile or registry an npm package came
			// from as a "source" qualifier of its own; from a package.json
			// alone that is always UNKNOWN, and no PURL reader knows it.
			q := u.Qualifiers[:0:0]
			for _, x := range u.Qualifiers {
				if x.Key != "source" {
					q = append(q, x)
				}
			}
			u.Qualifiers = q
		}
		out.PURL = u.String()
	}
	if loc := p.Location.PathOrEmpty(); loc != "" {
		out.Paths = []string{"/" + strings.TrimPrefix(filepath.ToSlash(loc), "/")}
	}
	switch m := p.Metadata.(type) {
	case *dpkgmeta.Metadata:
		if m.SourceName != p.Name {
			out.SourceName = m.SourceName
		}
		if m.SourceVersion != p.Version {
			out.SourceVersion = m.SourceVersion
		}
	case *apkmeta.Metadata:
		if m.OriginName != p.Name {
			out.SourceName = m.OriginName
		}
	case *rpmmeta.Metadata:
		if n := srpmName(m.SourceRPM); n != p.Name {
			out.SourceName = n
		}
		// OSV's RPM versions carry a non-zero epoch, as rpm compares it
		// first.
		if m.Epoch > 0 {
			out.Version = strconv.Itoa(m.Epoch) + ":" + p.Version
		}
	}
	// scalibr names the Go standard library "go"; OSV's Go database names
	// it "stdlib".
	if extractorName == "go/binary" && p.Name == "go" {
		out.Name = "stdlib"
		out.PURL = (&purl.PackageURL{Type: purl.TypeGolang, Name: "stdlib", Version: p.Version}).String()
	}
	return out
}

// srpmName is the package name of a source RPM's file name
// ("openssl-3.0.7-18.el9_2.src.rpm" → "openssl").
func srpmName(srpm string) string {
	s := strings.TrimSuffix(strings.TrimSuffix(srpm, ".rpm"), ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	for range 2 { // drop -release, then -version
		i := strings.LastIndexByte(s, '-')
		if i <= 0 {
			return ""
		}
		s = s[:i]
	}
	return s
}

// executableFormat reports whether a file starts like an executable format
// that can hold Go build information or cargo auditable data.
func executableFormat(head []byte) bool {
	for _, magic := range [][]byte{
		{0x7f, 'E', 'L', 'F'},
		{'M', 'Z'},                                         // PE
		{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, // Mach-O, big-endian
		{0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, // Mach-O, little-endian
		{0xca, 0xfe, 0xba, 0xbe}, // Mach-O universal
		{0x00, 'a', 's', 'm'},    // WebAssembly
		{0x01, 0xdf},             // XCOFF (AIX), 32-bit
		{0x01, 0xf7},             // XCOFF, 64-bit
	} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return false
}

// fileAPI is what an extractor's FileRequired sees of a file: its path in
// the image and its tar header's information.
type fileAPI struct {
	path string
	info fs.FileInfo
}

func (f fileAPI) Path() string               { return f.path }
func (f fileAPI) Stat() (fs.FileInfo, error) { return f.info, nil }
