// Package migrate copies a Berth deployment, its metadata and its blobs,
// from one pair of stores into another: `berth admin migrate`, which moves
// the embedded SQLite database and blob directory to PostgreSQL and S3.
//
// Everything a client reads back is copied: registry settings, repository
// creation templates, repositories with their settings, blob bytes and
// links, manifests with their exact bytes, references, tags and push and
// pull times, lifecycle policies, pull through cache rules, Secrets
// Manager's secrets with every version (values as sealed, so the target
// needs the same token key), and IAM's accounts, users, groups, roles,
// policies, attachments, memberships, access keys and OIDC providers, with
// their ids and times, IAM Identity Center's instance, users, permission
// sets and assignments, and ECR Public's custom aliases. What only lives while the
// source serves is not: upload sessions, jobs, leases, garbage collection's
// bookkeeping, lifecycle previews, role sessions, Identity Center's
// sign-ins.
//
// Writes go through the target stores' own methods, which keep their
// invariants: PutManifest with the manifest's refs and tags (so children
// before the indexes that list them), LinkBlob once the bytes are in place,
// the IAM create methods with the original ids, a blob through the blob
// store's Append and Commit, committed only once its digest is checked.
//
// A migration first walks everything without writing and compares it with
// what the target holds under the same names; one difference refuses it
// (ConflictError) before anything is written. Then it copies what the
// target lacks and leaves what it holds, so running it again is a no-op,
// and finishes a run that failed half-way.
package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/meta"
)

// Stores are the two stores of a deployment.
type Stores struct {
	Meta  meta.Store
	Blobs blob.Store
}

// Options tune a migration.
type Options struct {
	// DryRun checks the target and counts what would be copied, and
	// writes nothing.
	DryRun bool
	// Parallel is how many blobs are copied at once; <= 0 means 4.
	Parallel int
	// Logger reports progress, one line per repository; nil reports none.
	Logger *slog.Logger
}

// pageSize is how many repositories, manifests or blob links one read
// asks the source for.
const pageSize = 256

// Run copies into dst everything of src that dst lacks, and reports what
// it copied and what dst already held. src's metadata store must
// implement meta.ExportStore. A *ConflictError refuses a dst that holds
// something else under the source's names; nothing is written then.
func Run(ctx context.Context, src, dst Stores, opts Options) (*Report, error) {
	exp, ok := src.Meta.(meta.ExportStore)
	if !ok {
		return nil, fmt.Errorf("migrate: the source metadata store (%T) cannot list its contents", src.Meta)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	check := newRun(src, dst, exp, opts, true)
	if err := check.all(ctx); err != nil {
		return nil, err
	}
	if len(check.conflicts) > 0 {
		return nil, &ConflictError{Conflicts: check.conflicts}
	}
	if opts.DryRun {
		return check.report, nil
	}
	cp := newRun(src, dst, exp, opts, false)
	// The blobs the check found in the target need no second look.
	cp.inTarget = check.inTarget
	err := cp.all(ctx)
	return cp.report, err
}

// run is one walk over the source: the check (dry), then the copy.
type run struct {
	src, dst Stores
	exp      meta.ExportStore
	opts     Options
	dry      bool
	log      *slog.Logger

	mu        sync.Mutex // guards what blob copies running at once update
	report    *Report
	conflicts []string
	// seen holds the digests this run has looked at; inTarget, those the
	// target's blob store was found to hold (by the check, for the copy).
	seen, inTarget map[string]bool
}

func newRun(src, dst Stores, exp meta.ExportStore, opts Options, dry bool) *run {
	return &run{src: src, dst: dst, exp: exp, opts: opts, dry: dry, log: opts.Logger,
		report: newReport(dry), seen: map[string]bool{}, inTarget: map[string]bool{}}
}

func (r *run) copied(k Kind, n int) {
	r.mu.Lock()
	r.report.Copied[k] += n
	r.mu.Unlock()
}

func (r *run) present(k Kind) {
	r.mu.Lock()
	r.report.Present[k]++
	r.mu.Unlock()
}

// conflict records that the target holds something else under a name the
// source uses. The check collects them all; during the copy (the target
// changed since the check) the first one stops it.
func (r *run) conflict(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if !r.dry {
		return fmt.Errorf("migrate: the target changed during the migration: %s", msg)
	}
	r.mu.Lock()
	r.conflicts = append(r.conflicts, msg)
	r.mu.Unlock()
	return nil
}

func (r *run) all(ctx context.Context) error {
	regs, err := r.exp.Registries(ctx)
	if err != nil {
		return err
	}
	for _, reg := range regs {
		if err := r.registrySettings(ctx, reg); err != nil {
			return err
		}
		if err := r.templates(ctx, reg); err != nil {
			return err
		}
		if err := r.secrets(ctx, reg); err != nil {
			return err
		}
		if err := r.pullThroughRules(ctx, reg); err != nil {
			return err
		}
		for after := ""; ; {
			repos, err := r.src.Meta.ListRepositories(ctx, reg, after, pageSize)
			if err != nil {
				return err
			}
			for _, repo := range repos {
				if err := r.repository(ctx, repo); err != nil {
					return fmt.Errorf("repository %s of registry %s: %w", repo.Name, registryName(reg), err)
				}
			}
			if len(repos) < pageSize {
				break
			}
			after = repos[len(repos)-1].Name
		}
	}
	if err := r.iam(ctx); err != nil {
		return err
	}
	if err := r.sso(ctx); err != nil {
		return err
	}
	return r.publicAliases(ctx)
}

// publicAliases copies ECR Public's custom aliases: an alias the target
// gives another account is a conflict, as is another alias for the same
// account.
func (r *run) publicAliases(ctx context.Context) error {
	as, err := r.src.Meta.ListPublicAliases(ctx)
	if err != nil {
		return fmt.Errorf("list public aliases: %w", err)
	}
	for _, a := range as {
		owner, err := r.dst.Meta.PublicAliasAccount(ctx, a.Alias)
		switch {
		case err == nil && owner == a.Account:
			r.present(PublicAliases)
			continue
		case err == nil:
			if err := r.conflict("the public registry alias %s is account %s's on the target, account %s's in the source", a.Alias, owner, a.Account); err != nil {
				return err
			}
			continue
		case !errors.Is(err, meta.ErrNotFound):
			return fmt.Errorf("public alias %s on the target: %w", a.Alias, err)
		}
		if cur, err := r.dst.Meta.PublicAliasOf(ctx, a.Account); err == nil {
			if err := r.conflict("account %s's public registry has the alias %s on the target, %s in the source", a.Account, cur.Alias, a.Alias); err != nil {
				return err
			}
			continue
		} else if !errors.Is(err, meta.ErrNotFound) {
			return fmt.Errorf("public alias of %s on the target: %w", a.Account, err)
		}
		if !r.dry {
			if err := r.dst.Meta.SetPublicAlias(ctx, *a); err != nil {
				return fmt.Errorf("copy public alias %s: %w", a.Alias, err)
			}
		}
		r.copied(PublicAliases, 1)
	}
	return nil
}

func registryName(reg meta.RegistryKey) string { return reg.Account + "/" + reg.Region }

func (r *run) registrySettings(ctx context.Context, reg meta.RegistryKey) error {
	settings, err := r.exp.RegistrySettings(ctx, reg)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		value := settings[name]
		got, err := r.dst.Meta.GetRegistrySetting(ctx, reg, name)
		switch {
		case err == nil && got == value:
			r.present(RegistrySettings)
			continue
		case err == nil:
			if err := r.conflict("registry %s: setting %s is %q on the target, %q in the source", registryName(reg), name, got, value); err != nil {
				return err
			}
			continue
		case !errors.Is(err, meta.ErrNotFound):
			return err
		}
		if !r.dry {
			if err := r.dst.Meta.PutRegistrySetting(ctx, reg, name, value); err != nil {
				return err
			}
		}
		r.copied(RegistrySettings, 1)
	}
	return nil
}

// templates copies a registry's repository creation templates, their
// settings and times as they are.
func (r *run) templates(ctx context.Context, reg meta.RegistryKey) error {
	// A registry holds at most the domain's few templates: one read.
	all, err := r.src.Meta.ListTemplates(ctx, reg, "", 0)
	if err != nil {
		return err
	}
	for _, t := range all {
		got, err := r.dst.Meta.GetTemplate(ctx, reg, t.Key)
		switch {
		case err == nil && sameJSON(got.Settings, t.Settings) && sameTime(got.CreatedAt, t.CreatedAt) && sameTime(got.UpdatedAt, t.UpdatedAt):
			r.present(Templates)
			continue
		case err == nil:
			if err := r.conflict("registry %s: the repository creation template %s differs on the target (settings %s, updated %s) from the source's (settings %s, updated %s)",
				registryName(reg), t.Key, orNone(got.Settings), stamp(got.UpdatedAt), orNone(t.Settings), stamp(t.UpdatedAt)); err != nil {
				return err
			}
			continue
		case !errors.Is(err, meta.ErrNotFound):
			return err
		}
		// The domain's limit held in the source; a copy is not held to it
		// again (the target may hold templates of other prefixes).
		if !r.dry {
			if err := r.dst.Meta.CreateTemplate(ctx, t, math.MaxInt32); err != nil {
				return err
			}
		}
		r.copied(Templates, 1)
	}
	return nil
}

// repository copies a repository and everything under it. During the
// check a repository the target lacks is walked all the same, with no
// target repository to compare with (dst nil), to count what it holds.
func (r *run) repository(ctx context.Context, src *meta.Repository) error {
	dst, err := r.dst.Meta.GetRepository(ctx, src.Registry, src.Name)
	switch {
	case err == nil:
		if diff := repositoryDiff(dst, src); diff != "" {
			return r.conflict("repository %s in registry %s: %s", src.Name, registryName(src.Registry), diff)
		}
		r.present(Repositories)
	case errors.Is(err, meta.ErrRepositoryUnknown):
		dst = nil
		if !r.dry {
			dst = &meta.Repository{Registry: src.Registry, Name: src.Name, CreatedAt: src.CreatedAt,
				TagMutability: src.TagMutability, Settings: src.Settings}
			if err := r.dst.Meta.CreateRepository(ctx, dst); err != nil {
				return err
			}
		}
		r.copied(Repositories, 1)
	default:
		return err
	}
	if err := r.blobLinks(ctx, src, dst); err != nil {
		return err
	}
	if err := r.manifests(ctx, src, dst); err != nil {
		return err
	}
	if err := r.lifecyclePolicy(ctx, src, dst); err != nil {
		return err
	}
	if !r.dry {
		r.log.Info("repository done", "registry", registryName(src.Registry), "repository", src.Name)
	}
	return nil
}

// repositoryDiff says how two repositories of one name differ, or "".
// The creation time tells a repository made on the target apart from the
// source's; times compare at microseconds, PostgreSQL's precision.
func repositoryDiff(dst, src *meta.Repository) string {
	switch {
	case !sameTime(dst.CreatedAt, src.CreatedAt):
		return fmt.Sprintf("the target's was created at %s, the source's at %s", stamp(dst.CreatedAt), stamp(src.CreatedAt))
	case dst.TagMutability != src.TagMutability:
		return fmt.Sprintf("its tag mutability is %s on the target, %s in the source", dst.TagMutability, src.TagMutability)
	case !sameJSON(dst.Settings, src.Settings):
		return fmt.Sprintf("its settings are %s on the target, %s in the source", orNone(dst.Settings), orNone(src.Settings))
	}
	return ""
}

func orNone(b json.RawMessage) string {
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(no time)"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// sameJSON compares by value: a store may re-encode what it keeps.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}
