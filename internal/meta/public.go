package meta

import (
	"context"
	"errors"
	"time"
)

// PublicAlias is an ECR Public registry's custom alias: the name its
// repositories are reached under on the public host (<host>/<alias>/<name>)
// instead of the account's default alias.
type PublicAlias struct {
	Alias     string
	Account   string
	CreatedAt time.Time
}

// ErrPublicAliasTaken is returned when an alias belongs to another account.
var ErrPublicAliasTaken = errors.New("meta: public registry alias belongs to another account")

// PublicStore keeps what the ECR Public data plane shares between nodes:
// custom aliases, and the counters of anonymous pulls that its per-source
// rate limit reads.
type PublicStore interface {
	// SetPublicAlias gives account the alias, replacing the account's
	// previous one (an account has one custom alias, as in ECR Public). An
	// alias another account holds fails with ErrPublicAliasTaken.
	SetPublicAlias(ctx context.Context, a PublicAlias) error
	// PublicAliasAccount is the account an alias belongs to; ErrNotFound
	// when none.
	PublicAliasAccount(ctx context.Context, alias string) (string, error)
	// PublicAliasOf is an account's custom alias; ErrNotFound when none.
	PublicAliasOf(ctx context.Context, account string) (*PublicAlias, error)
	// ListPublicAliases returns every custom alias, in alias order.
	ListPublicAliases(ctx context.Context) ([]*PublicAlias, error)
	// CountPublicPull adds one to the counter of key (a source address) in
	// the fixed window numbered window, and returns the counter after the
	// addition: one atomic step, so that nodes sharing the store count
	// together. Counters of windows before window-1 are dropped on the way.
	CountPublicPull(ctx context.Context, key string, window int64) (int64, error)
}
