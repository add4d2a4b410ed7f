package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// writeOSVZips writes the data both scanners use, as osv.dev publishes it:
// <dir>/<Ecosystem>/all.zip, Go's from the Go vulnerability database and one
// per directory of fixtures (Debian, PyPI, npm).
func writeOSVZips(dir, goVulnDB, fixtures string) (string, error) {
	sources := map[string][]string{}
	add := func(eco, pattern string) error {
		files, err := filepath.Glob(pattern)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("no OSV records match %s", pattern)
		}
		sources[eco] = append(sources[eco], files...)
		return nil
	}
	if err := add("Go", filepath.Join(goVulnDB, "*.json")); err != nil {
		return "", err
	}
	ecos, err := os.ReadDir(fixtures)
	if err != nil {
		return "", err
	}
	for _, e := range ecos {
		if e.IsDir() {
			if err := add(e.Name(), filepath.Join(fixtures, e.Name(), "*.json")); err != nil {
				return "", err
			}
		}
	}
	names := make([]string, 0, len(sources))
	for eco := range sources {
		names = append(names, eco)
	}
	sort.Strings(names)
	var counts []string
	for _, eco := range names {
		if err := writeZip(filepath.Join(dir, eco, "all.zip"), sources[eco]); err != nil {
			return "", err
		}
		counts = append(counts, fmt.Sprintf("%s %d", eco, len(sources[eco])))
	}
	return strings.Join(counts, ", ") + " records", nil
}

func writeZip(path string, files []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, src := range files {
		w, err := zw.Create(filepath.Base(src))
		if err != nil {
			return err
		}
		r, err := os.Open(src)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
