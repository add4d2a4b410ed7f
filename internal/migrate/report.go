package migrate

import (
	"fmt"
	"strings"
)

// Kind is a kind of thing a migration copies, as its report names it.
type Kind string

const (
	RegistrySettings  Kind = "registry settings"
	Repositories      Kind = "repositories"
	Blobs             Kind = "blobs"
	BlobLinks         Kind = "blob links"
	Manifests         Kind = "manifests"
	Tags              Kind = "tags"
	LifecyclePolicies Kind = "lifecycle policies"
	Templates         Kind = "repository creation templates"
	Accounts          Kind = "accounts"
	Users             Kind = "users"
	Groups            Kind = "groups"
	Roles             Kind = "roles"
	ManagedPolicies   Kind = "managed policies"
	InlinePolicies    Kind = "inline policies"
	Attachments       Kind = "policy attachments"
	Memberships       Kind = "group memberships"
	AccessKeys        Kind = "access keys"
	PublicAliases     Kind = "public registry aliases"
	Secrets           Kind = "secrets"
	PullThroughRules  Kind = "pull through cache rules"
	OIDCProviders     Kind = "OIDC providers"
	SSOInstances      Kind = "Identity Center instances"
	SSOUsers          Kind = "Identity Center users"
	PermissionSets    Kind = "permission sets"
	SSOAssignments    Kind = "account assignments"
)

// Kinds lists every Kind in the order a report shows them.
var Kinds = []Kind{
	RegistrySettings, Templates, Repositories, Blobs, BlobLinks, Manifests, Tags, LifecyclePolicies,
	Secrets, PullThroughRules, Accounts, Users, Groups, Roles, ManagedPolicies, InlinePolicies,
	Attachments, Memberships, AccessKeys, OIDCProviders, SSOInstances, SSOUsers, PermissionSets,
	SSOAssignments, PublicAliases,
}

// Report says what a migration copied and what the target already held.
type Report struct {
	// DryRun: Copied counts what would have been copied.
	DryRun bool
	// Copied counts, per kind, what was written to the target; Present,
	// what the target already held, the same as the source's.
	Copied, Present map[Kind]int
	// BlobBytes is the size of the blobs copied.
	BlobBytes int64
}

func newReport(dry bool) *Report {
	return &Report{DryRun: dry, Copied: map[Kind]int{}, Present: map[Kind]int{}}
}

// CopiedAny reports whether the migration wrote, or would write, anything.
func (r *Report) CopiedAny() bool {
	for _, n := range r.Copied {
		if n > 0 {
			return true
		}
	}
	return false
}

// ConflictError refuses a migration whose target holds, under names the
// source also uses, something different from the source's: a repository
// created at another time or configured otherwise, a tag on another
// manifest, a user with another id, a policy with another document. It is
// found before anything is written, and nothing is.
type ConflictError struct {
	Conflicts []string
}

// maxConflictsShown bounds the list in the error's text.
const maxConflictsShown = 20

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the target holds %d thing(s) under the source's names that differ from the source's, which a migration cannot reconcile; nothing was copied:", len(e.Conflicts))
	for i, c := range e.Conflicts {
		if i == maxConflictsShown {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Conflicts)-i)
			break
		}
		b.WriteString("\n  - " + c)
	}
	return b.String()
}
