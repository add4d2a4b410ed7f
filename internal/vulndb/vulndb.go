// Package vulndb is the vulnerability data image scanning matches against:
// OSV records (https://ossf.github.io/osv-schema/) imported from osv.dev's
// zips, directories of OSV files or URLs into the metadata store, where
// every node reads them, and matched against the packages an image holds,
// with each ecosystem's version rules, into findings with ECR's severities.
//
// It is a domain: no HTTP (a Fetcher brings URLs), no SQL (the store is
// meta.VulnStore).
package vulndb

import (
	"bytes"
	"cmp"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"slices"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// DB imports and matches vulnerability data.
type DB struct {
	store   meta.VulnStore
	log     *slog.Logger
	fetch   Fetcher
	tempDir string
	now     func() time.Time
}

// Options configure a DB.
type Options struct {
	// Logger reports imports; nil reports nothing.
	Logger *slog.Logger
	// Fetcher brings http(s) sources; without one an import refuses URLs.
	Fetcher Fetcher
	// TempDir holds downloaded zips while they are imported; "" is the
	// system's.
	TempDir string
	// Now is the clock imports are stamped by; nil is time.Now.
	Now func() time.Time
}

// New returns a DB over store.
func New(store meta.VulnStore, opts Options) *DB {
	db := &DB{store: store, log: opts.Logger, fetch: opts.Fetcher, tempDir: opts.TempDir, now: opts.Now}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if db.now == nil {
		db.now = time.Now
	}
	return db
}

// Ecosystem is an ecosystem's data as loaded.
type Ecosystem = meta.VulnEcosystem

// DataVersion tells whether the data changed since a scan.
type DataVersion = meta.VulnVersion

// ImportReport is what an import did.
type ImportReport struct {
	// Ecosystems are those replaced, with the records each holds now.
	Ecosystems []Ecosystem
	// Withdrawn counts the records left out as withdrawn; NoPackage those
	// that name no package (only repositories, GIT ranges), which nothing
	// could match.
	Withdrawn int
	NoPackage int
	Duration  time.Duration
}

// Import reads the sources (see source.go) and replaces the ecosystems
// they hold with what they hold, all at once: every record of every source
// is read and checked as it is written, and one record that is not OSV, a
// zip that is corrupt or a record found twice fails the import, which then
// changes nothing. The error names the file at fault.
func (db *DB) Import(ctx context.Context, specs ...string) (*ImportReport, error) {
	if len(specs) == 0 {
		return nil, errors.New("vulndb: import: no source")
	}
	start := db.now()
	var srcs []*source
	defer func() {
		for _, s := range srcs {
			if err := s.close(); err != nil {
				db.log.Warn("closing a vulnerability data source", "source", s.spec, "err", err)
			}
		}
	}()
	var declared []string
	for _, spec := range specs {
		s, err := db.openSource(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("vulndb: import: %w", err)
		}
		srcs = append(srcs, s)
		declared = append(declared, s.declared...)
	}
	slices.Sort(declared)
	// Leftovers of earlier imports go first, so that this one has the
	// room they took.
	if err := db.store.PruneVulns(ctx, start); err != nil {
		db.log.Warn("removing replaced vulnerability data", "err", err)
	}

	rep := &ImportReport{}
	imp := meta.VulnImport{Source: sourceNames(srcs), Ecosystems: slices.Compact(declared), LoadedAt: start}
	ecos, err := db.store.ImportVulns(ctx, imp, db.records(ctx, srcs, rep))
	if err != nil {
		return nil, fmt.Errorf("vulndb: import: %w", err)
	}
	rep.Ecosystems, rep.Duration = ecos, db.now().Sub(start)
	for _, e := range ecos {
		db.log.Debug("vulnerability data imported", "ecosystem", e.Ecosystem, "records", e.Records, "source", e.Source)
	}
	if err := db.store.PruneVulns(ctx, db.now()); err != nil {
		db.log.Warn("removing replaced vulnerability data", "err", err)
	}
	return rep, nil
}

// records yields the records of the sources, one per (ecosystem, record):
// a record affecting packages of several ecosystems is stored with each.
func (db *DB) records(ctx context.Context, srcs []*source, rep *ImportReport) iter.Seq2[*meta.VulnRecord, error] {
	return func(yield func(*meta.VulnRecord, error) bool) {
		enc := newEncoder()
		// Where each (ecosystem, id) came from, to name both files of a
		// record found twice: ids only, so memory stays small.
		seen := map[meta.VulnKey]string{}
		stop := errors.New("stop")
		for _, src := range srcs {
			err := src.each(ctx, func(f file) error {
				v, err := Parse(f.data)
				if err != nil {
					return fmt.Errorf("%s: %w", f.where, err)
				}
				if !v.Withdrawn.IsZero() {
					rep.Withdrawn++
					return nil
				}
				recs := split(v, f.ecosystem)
				if len(recs) == 0 {
					if f.ecosystem == "" {
						rep.NoPackage++
					}
					return nil
				}
				data, err := enc.encode(f.data)
				if err != nil {
					return fmt.Errorf("%s: %w", f.where, err)
				}
				for _, r := range recs {
					id := meta.VulnKey{Ecosystem: r.Ecosystem, Name: r.ID}
					if prev, ok := seen[id]; ok {
						return fmt.Errorf("%s: record %s of %s is also in %s", f.where, r.ID, r.Ecosystem, prev)
					}
					seen[id] = f.where
					r.Data = data
					if !yield(r, nil) {
						return stop
					}
				}
				return nil
			})
			if errors.Is(err, stop) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// split makes one stored record per ecosystem of v's packages, keyed by
// each package it affects; only only's, when only is set.
func split(v *Vulnerability, only string) []*meta.VulnRecord {
	var out []*meta.VulnRecord
	by := map[string]*meta.VulnRecord{}
	for _, a := range v.Affected {
		if a.Package == nil {
			continue
		}
		k := key(a.Package)
		base := Base(k.Ecosystem)
		if only != "" && base != only {
			continue
		}
		r := by[base]
		if r == nil {
			r = &meta.VulnRecord{Ecosystem: base, ID: v.ID, Modified: v.Modified.Time}
			by[base] = r
			out = append(out, r)
		}
		if !slices.Contains(r.Keys, k) {
			r.Keys = append(r.Keys, k)
		}
	}
	return out
}

// Records are stored deflated, after a byte that says so: OSV's JSON
// shrinks to about a fifth, and a later encoding can be told apart.
const encDeflate = 1

type encoder struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func newEncoder() *encoder {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression) // fails only for a bad level
	return &encoder{w: w}
}

// encode compacts and deflates an OSV record. The flate writer is reused:
// a new one allocates about a megabyte.
func (e *encoder) encode(record []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, record); err != nil {
		return nil, err
	}
	e.buf.Reset()
	e.buf.WriteByte(encDeflate)
	e.w.Reset(&e.buf)
	if _, err := e.w.Write(compact.Bytes()); err != nil {
		return nil, err
	}
	if err := e.w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// decode reads a stored record back.
func decode(data []byte) (*Vulnerability, error) {
	if len(data) == 0 || data[0] != encDeflate {
		return nil, errors.New("stored record in an unknown encoding")
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(data[1:])))
	if err != nil {
		return nil, err
	}
	return Parse(raw)
}

// Status lists the ecosystems that have data.
func (db *DB) Status(ctx context.Context) ([]Ecosystem, error) {
	return db.store.VulnEcosystems(ctx)
}

// Version is the data's version: a scanner that remembers it knows when to
// scan again.
func (db *DB) Version(ctx context.Context) (DataVersion, error) {
	return db.store.VulnVersion(ctx)
}

// Match returns the findings of the records that affect pkgs, in the
// order of pkgs, then by record id: one per package and record, however
// many of the record's entries name the package.
func (db *DB) Match(ctx context.Context, pkgs []Package) ([]Finding, error) {
	byKey := map[meta.VulnKey][]int{}
	var keys []meta.VulnKey
	add := func(k meta.VulnKey, i int) {
		if !slices.Contains(byKey[k], i) {
			if byKey[k] == nil {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], i)
		}
	}
	for i, p := range pkgs {
		eco := NormalizeEcosystem(p.Ecosystem)
		for _, name := range []string{p.Name, p.Source} {
			if name == "" {
				continue
			}
			add(meta.VulnKey{Ecosystem: eco, Name: NormalizeName(eco, name)}, i)
			// Records that name the ecosystem without a release apply
			// to each of its releases.
			if base := Base(eco); base != eco {
				add(meta.VulnKey{Ecosystem: base, Name: NormalizeName(base, name)}, i)
			}
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	recs, err := db.store.FindVulns(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("vulndb: match: %w", err)
	}
	type found struct {
		pkg int
		f   Finding
	}
	var out []found
	for _, r := range recs {
		v, err := decode(r.Data)
		if err != nil {
			return nil, fmt.Errorf("vulndb: match: record %s of %s: %w", r.ID, r.Ecosystem, err)
		}
		done := map[int]bool{}
		for ai := range v.Affected {
			a := &v.Affected[ai]
			if a.Package == nil {
				continue
			}
			// What the entry says is the same for each package it
			// affects (a source package's binaries): worked out once.
			var entry *Finding
			for _, i := range byKey[key(a.Package)] {
				if done[i] {
					continue
				}
				p := pkgs[i]
				if ok, fixed := Affects(a, NormalizeEcosystem(p.Ecosystem), p.Version); ok {
					if entry == nil {
						f := newFinding(v, a)
						entry = &f
					}
					f := *entry
					f.Package, f.FixedIn = p, fixed
					done[i] = true
					out = append(out, found{i, f})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b found) int {
		return cmp.Or(cmp.Compare(a.pkg, b.pkg), cmp.Compare(a.f.ID, b.f.ID))
	})
	findings := make([]Finding, len(out))
	for i, f := range out {
		findings[i] = f.f
	}
	return findings, nil
}
