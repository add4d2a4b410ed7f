// Package meta defines Berth's transactional metadata store: repositories,
// blob links, upload sessions, manifests and tags, lifecycle policies, what
// garbage collection needs, leases, background jobs, IAM's identities, IAM Identity Center's (sso.go), the
// vulnerability data image scanning matches against, image scans with the
// requests for them, Secrets Manager's secrets, and the state of images'
// replications. Each method is one transaction; the checks a
// method makes (a manifest's references exist, a tag is not immutable)
// happen inside it, so concurrent requests on several nodes cannot
// interleave between check and write.
//
// A store on a database server (PostgreSQL) can lose its server: then any
// method fails with an error wrapping ErrUnavailable, whatever else it
// would have returned.
//
// The interfaces are split by concern, one file each with its records
// (repository.go, image.go, upload.go, lifecycle.go, gc.go, lease.go,
// jobs.go, iam.go, vulndb.go, scan.go, secrets.go, replication.go,
// template.go); Store is their union. Every implementation passes the
// suite in package metatest; repocache is a decorator any implementation
// can wear.
package meta

import "context"

// Store is a whole metadata store: what a backend implements, and what the
// shared suite (metatest) checks. Consumers take only the parts they use —
// the registry domain its own interface of them, the IAM domain IAMStore,
// the job runner JobStore — so each part can be read, and backed, alone.
type Store interface {
	RepositoryStore
	BlobLinkStore
	UploadStore
	ManifestStore
	LifecycleStore
	GCStore
	LeaseStore
	JobStore
	IAMStore
	OIDCProviderStore
	SSOStore
	VulnStore
	ScanStore
	SecretStore
	ReplicationStore
	TemplateStore
	PullThroughStore
	PublicStore

	// Ping reports whether the store reaches its database now: the
	// readiness probe's question.
	Ping(ctx context.Context) error
	Close() error
}
