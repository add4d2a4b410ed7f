package meta

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"
)

// The vulnerability data image scanning matches packages against: OSV
// records, kept per ecosystem ("Go", "PyPI", "Debian", ...), shared by every
// node like the rest of the metadata, so an import on one node is seen by
// all of them at their next lookup.
//
// An import replaces whole ecosystems. Its records are written in batches,
// each its own short transaction, under a new generation of each ecosystem
// that no lookup sees; one last transaction makes the new generations the
// current ones. So an import is all or nothing, as seen by lookups, without
// holding the database's write lock (SQLite has one) for as long as a large
// import takes, or the whole import in memory. What an import replaced, and
// what a failed or abandoned one left, are rows no lookup sees, which
// PruneVulns removes.

// VulnKey names a package in an ecosystem, as lookups find it. Ecosystem
// keeps the release of the ecosystems that have one ("Debian:12",
// "Alpine:v3.19"); Name is normalised as package vulndb does it.
type VulnKey struct {
	Ecosystem string
	Name      string
}

// VulnRecord is one vulnerability record of one ecosystem.
type VulnRecord struct {
	// Ecosystem is what an import replaces: the ecosystem without its
	// release ("Debian" for the keys of "Debian:11" and "Debian:12").
	Ecosystem string
	ID        string
	// Modified is the record's own last change; the zero time when unknown.
	Modified time.Time
	// Data is the record in package vulndb's encoding, opaque to the store.
	Data []byte
	// Keys are the packages the record affects; a lookup by any of them
	// finds it. Each key's ecosystem is Ecosystem, or starts with
	// Ecosystem + ":". FindVulns leaves Keys empty.
	Keys []VulnKey
}

// CheckVulnRecord refuses a record a store must not write; a store calls it
// on every record of an import, which then fails as a whole.
func CheckVulnRecord(r *VulnRecord) error {
	switch {
	case r == nil:
		return fmt.Errorf("meta: nil vulnerability record")
	case r.ID == "":
		return fmt.Errorf("meta: vulnerability record of %s has no id", r.Ecosystem)
	}
	if err := CheckVulnEcosystem(r.Ecosystem); err != nil {
		return fmt.Errorf("meta: vulnerability record %s: %w", r.ID, err)
	}
	for _, k := range r.Keys {
		if k.Name == "" || k.Ecosystem != r.Ecosystem && !strings.HasPrefix(k.Ecosystem, r.Ecosystem+":") {
			return fmt.Errorf("meta: vulnerability record %s of %s: key %s/%q is not of its ecosystem", r.ID, r.Ecosystem, k.Ecosystem, k.Name)
		}
	}
	return nil
}

// CheckVulnEcosystem refuses the name of an ecosystem an import cannot
// replace: an empty one, or one with a release.
func CheckVulnEcosystem(name string) error {
	if name == "" || strings.Contains(name, ":") {
		return fmt.Errorf("ecosystem %q: want a name without a release", name)
	}
	return nil
}

// BatchVulns reads records, checks each with CheckVulnRecord, and hands
// them to write VulnBatch at a time: the loop of every store's ImportVulns.
// It stops at the first error, records' or write's.
func BatchVulns(records iter.Seq2[*VulnRecord, error], write func([]*VulnRecord) error) error {
	batch := make([]*VulnRecord, 0, VulnBatch)
	for r, err := range records {
		if err != nil {
			return err
		}
		if err := CheckVulnRecord(r); err != nil {
			return err
		}
		batch = append(batch, r)
		if len(batch) == VulnBatch {
			if err := write(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return write(batch)
}

// VulnImport describes an import.
type VulnImport struct {
	// Source says where the data came from (a file, a URL), for status.
	Source string
	// Ecosystems are replaced even when no record of theirs comes: an
	// import of osv.dev's Go/all.zip replaces Go, whatever it holds. Every
	// ecosystem of a record is replaced too.
	Ecosystems []string
	// LoadedAt stamps the ecosystems replaced.
	LoadedAt time.Time
}

// VulnEcosystem is an ecosystem's current data.
type VulnEcosystem struct {
	Ecosystem string
	Records   int
	Source    string
	LoadedAt  time.Time
}

// VulnVersion tells a scanner whether the data changed since it last
// looked.
type VulnVersion struct {
	// Version grows with every import that commits; 0 means none did.
	Version int64
	// ChangedAt is the LoadedAt of the last import that committed.
	ChangedAt time.Time
}

// VulnStore keeps the vulnerability data.
type VulnStore interface {
	// ImportVulns replaces the ecosystems of imp.Ecosystems and of every
	// record that records yields with those records, all at once when
	// records ends, and returns the ecosystems replaced, in name order. If
	// records yields an error, or a record fails CheckVulnRecord or repeats
	// another's (Ecosystem, ID), nothing changes that a lookup sees, the
	// rows written so far are removed, and the error is returned. records
	// is read once, as the import goes, VulnBatch records at a time.
	ImportVulns(ctx context.Context, imp VulnImport, records iter.Seq2[*VulnRecord, error]) ([]VulnEcosystem, error)
	// FindVulns returns the current records that affect any of keys, each
	// once, in (Ecosystem, ID) order, without their Keys.
	FindVulns(ctx context.Context, keys []VulnKey) ([]*VulnRecord, error)
	// VulnEcosystems lists the ecosystems that have data, in name order.
	VulnEcosystems(ctx context.Context) ([]VulnEcosystem, error)
	// VulnVersion reports the version of the data.
	VulnVersion(ctx context.Context) (VulnVersion, error)
	// PruneVulns removes the generations that imports replaced, and those
	// that imports started before now-VulnStaleAfter and never committed
	// (they died), in batches of their own transactions. It changes nothing
	// a lookup sees.
	PruneVulns(ctx context.Context, now time.Time) error
}

// VulnBatch is how many records a store writes in one transaction of an
// import: enough that a transaction's cost is spread, few enough that a
// writer waiting behind one (a push, on SQLite) waits milliseconds.
const VulnBatch = 500

// VulnStaleAfter is when a generation still being written is taken for
// the leftover of an import that died, and removed by the next import.
const VulnStaleAfter = 24 * time.Hour
