package vulndb

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Sources an import reads:
//
//   - an osv.dev-style zip of OSV JSON files (all.zip), a file;
//   - a directory of OSV JSON files, read recursively (a clone of an
//     advisory database, golang.org/x/vulndb's data/osv);
//   - a directory laid out as osv.dev's bucket is, <Ecosystem>/all.zip;
//   - an http(s) URL of a zip, brought to a temporary file by a Fetcher;
//   - one OSV JSON file.
//
// A zip named all.zip in a directory named after an ecosystem (Go/all.zip,
// a URL ending in /PyPI/all.zip) is that ecosystem's data: the ecosystem is
// replaced even if the zip holds none of its records, and records it holds
// for other ecosystems are left out (osv.dev puts a record affecting npm
// and PyPI packages in both zips).

// maxRecordSize bounds one OSV file: the largest real ones are a few MB,
// and a zip's member must not inflate without end.
const maxRecordSize = 64 << 20

// Fetcher brings the zip at an http(s) URL into w. Package
// vulndb/httpfetch is the one Berth uses: vulndb itself speaks no HTTP.
type Fetcher interface {
	Fetch(ctx context.Context, url string, w io.Writer) error
}

// file is one OSV JSON file of a source.
type file struct {
	// where names it for errors and logs: a path, or a zip and a member.
	where string
	data  []byte
	// ecosystem is the one ecosystem the file's zip holds, or "".
	ecosystem string
}

// source is a source as given, opened: each yields its files, and
// declared lists the ecosystems it is known to be the data of.
type source struct {
	spec     string
	declared []string
	each     func(ctx context.Context, yield func(file) error) error
	close    func() error
}

// openSource opens what spec names.
func (db *DB) openSource(ctx context.Context, spec string) (*source, error) {
	if u, err := url.Parse(spec); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return db.openURL(ctx, spec, u)
	}
	fi, err := os.Stat(spec)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		zips, err := filepath.Glob(filepath.Join(spec, "*", "all.zip"))
		if err != nil {
			return nil, err
		}
		if len(zips) > 0 {
			return openLayout(spec, zips)
		}
		return &source{spec: spec, each: walkDir(spec), close: noClose}, nil
	case strings.EqualFold(filepath.Ext(spec), ".zip"):
		return openZip(spec, spec, zipEcosystem(filepath.ToSlash(spec)))
	}
	return &source{spec: spec, close: noClose, each: func(ctx context.Context, yield func(file) error) error {
		data, err := readFile(spec)
		if err != nil {
			return err
		}
		return yield(file{where: spec, data: data})
	}}, nil
}

func noClose() error { return nil }

// zipEcosystem is the ecosystem whose data the zip at p (a slash path) is,
// by osv.dev's layout <Ecosystem>/all.zip, or "".
func zipEcosystem(p string) string {
	dir, base := path.Split(p)
	if base != "all.zip" {
		return ""
	}
	name := path.Base(strings.TrimSuffix(dir, "/"))
	if canon, ok := ecosystems[strings.ToLower(name)]; ok {
		return canon
	}
	return ""
}

// openLayout opens a directory laid out as <Ecosystem>/all.zip: one zip
// per ecosystem, each the ecosystem's data.
func openLayout(dir string, zips []string) (*source, error) {
	src := &source{spec: dir}
	var opened []*source
	src.close = func() error {
		var errs []error
		for _, o := range opened {
			errs = append(errs, o.close())
		}
		return errors.Join(errs...)
	}
	for _, z := range zips {
		// A directory not named after an ecosystem OSV knows holds a zip
		// like any other: of whatever ecosystems its records name.
		eco := zipEcosystem(filepath.ToSlash(z))
		o, err := openZip(z, z, eco)
		if err != nil {
			src.close()
			return nil, err
		}
		opened = append(opened, o)
		src.declared = append(src.declared, o.declared...)
	}
	src.each = func(ctx context.Context, yield func(file) error) error {
		for _, o := range opened {
			if err := o.each(ctx, yield); err != nil {
				return err
			}
		}
		return nil
	}
	return src, nil
}

// openZip opens the zip at p, named where in errors. Its central
// directory is read now, so a zip that is not one fails before anything is
// imported; a member that is corrupt fails when it is read.
func openZip(p, where, ecosystem string) (*source, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	src := &source{spec: where, close: zr.Close}
	if ecosystem != "" {
		src.declared = []string{ecosystem}
	}
	src.each = func(ctx context.Context, yield func(file) error) error {
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || !strings.EqualFold(path.Ext(f.Name), ".json") {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			member := where + ": " + f.Name
			data, err := readZipMember(f)
			if err != nil {
				return fmt.Errorf("%s: %w", member, err)
			}
			if err := yield(file{where: member, data: data, ecosystem: ecosystem}); err != nil {
				return err
			}
		}
		return nil
	}
	return src, nil
}

func readZipMember(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxRecordSize {
		return nil, fmt.Errorf("%d bytes: larger than an OSV record may be (%d)", f.UncompressedSize64, maxRecordSize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The reader checks the member's CRC at its end: a corrupt member
	// fails here.
	return readAllMax(rc)
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAllMax(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return data, nil
}

func readAllMax(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRecordSize {
		return nil, fmt.Errorf("larger than an OSV record may be (%d bytes)", maxRecordSize)
	}
	return data, nil
}

// walkDir yields the .json files under dir, in lexical order, skipping
// hidden directories (a clone's .git). Through os.DirFS, so that a dir
// that is a symbolic link is walked too.
func walkDir(dir string) func(ctx context.Context, yield func(file) error) error {
	return func(ctx context.Context, yield func(file) error) error {
		return fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				if p != "." && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if !strings.EqualFold(path.Ext(p), ".json") {
				return nil
			}
			data, err := readFile(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				return err
			}
			return yield(file{where: filepath.Join(dir, filepath.FromSlash(p)), data: data})
		})
	}
}

// openURL fetches the zip at u into a temporary file, which the source
// removes when closed: a zip is read from its end, so it cannot be
// streamed.
func (db *DB) openURL(ctx context.Context, spec string, u *url.URL) (*source, error) {
	if db.fetch == nil {
		return nil, fmt.Errorf("%s: this import cannot fetch URLs", spec)
	}
	tmp, err := os.CreateTemp(db.tempDir, "berth-vulndb-*.zip")
	if err != nil {
		return nil, err
	}
	remove := func() error { return errors.Join(tmp.Close(), os.Remove(tmp.Name())) }
	db.log.Info("downloading vulnerability data", "url", spec)
	if err := db.fetch.Fetch(ctx, spec, tmp); err != nil {
		remove()
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	src, err := openZip(tmp.Name(), spec, zipEcosystem(u.Path))
	if err != nil {
		remove()
		return nil, err
	}
	closeZip := src.close
	src.close = func() error { return errors.Join(closeZip(), remove()) }
	return src, nil
}

// sourceNames joins the sources' names for status.
func sourceNames(srcs []*source) string {
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.spec
	}
	return strings.Join(slices.Compact(names), " ")
}
