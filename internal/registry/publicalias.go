package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// aliasRE is ECR Public's RegistryAliasName pattern, 2 to 50 characters.
var aliasRE = regexp.MustCompile(`^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ValidatePublicAlias checks a custom alias against ECR Public's model. An
// alias shaped like a default one (b and 12 digits) is refused too: it
// would name another account's registry.
func ValidatePublicAlias(alias string) error {
	if len(alias) < 2 || len(alias) > 50 || !aliasRE.MatchString(alias) {
		return errorf(ErrParameterInvalid, "Invalid parameter at 'alias' failed to satisfy constraint: 'Member must have length between 2 and 50, and match [a-z][a-z0-9]+(?:[._-][a-z0-9]+)*' (%q does not)", alias)
	}
	if _, ok := PublicAccountOf(alias); ok {
		return errorf(ErrParameterInvalid, "the alias %s has the shape of a default alias (b and an account id), which names that account's registry: choose another", alias)
	}
	return nil
}

// SetPublicAlias gives an account's public registry a custom alias,
// replacing any it had. The default alias keeps working.
func (s *Service) SetPublicAlias(ctx context.Context, account, alias string) error {
	if err := ValidatePublicAlias(alias); err != nil {
		return err
	}
	err := s.meta.SetPublicAlias(ctx, meta.PublicAlias{Alias: alias, Account: account, CreatedAt: s.now().UTC().Truncate(time.Microsecond)})
	if errors.Is(err, meta.ErrPublicAliasTaken) {
		owner, _ := s.meta.PublicAliasAccount(ctx, alias)
		return errorf(ErrParameterInvalid, "the alias %s belongs to the public registry of account %s", alias, owner)
	}
	if err != nil {
		return fmt.Errorf("set public alias: %w", err)
	}
	return nil
}

// ListPublicAliases lists every custom alias.
func (s *Service) ListPublicAliases(ctx context.Context) ([]*meta.PublicAlias, error) {
	as, err := s.meta.ListPublicAliases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list public aliases: %w", err)
	}
	return as, nil
}

// PublicAliases are an account's aliases: its custom one ("" if none) and
// its default one. The custom one, when there is one, is the primary: the
// one its URIs use, as in ECR Public.
func (s *Service) PublicAliases(ctx context.Context, account string) (custom, def string, err error) {
	def = DefaultPublicAlias(account)
	a, err := s.meta.PublicAliasOf(ctx, account)
	if errors.Is(err, meta.ErrNotFound) {
		return "", def, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("public alias of %s: %w", account, err)
	}
	return a.Alias, def, nil
}

// PrimaryPublicAlias is the alias an account's public URIs use.
func (s *Service) PrimaryPublicAlias(ctx context.Context, account string) (string, error) {
	custom, def, err := s.PublicAliases(ctx, account)
	if custom != "" {
		return custom, err
	}
	return def, err
}

// PublicAccount is the account whose public registry an alias, default
// or custom, names; ErrNameUnknown when none.
func (s *Service) PublicAccount(ctx context.Context, alias string) (string, error) {
	if acct, ok := PublicAccountOf(alias); ok {
		return acct, nil
	}
	acct, err := s.meta.PublicAliasAccount(ctx, alias)
	if errors.Is(err, meta.ErrNotFound) {
		return "", errorf(ErrNameUnknown, "There is no public registry with the alias '%s'", alias)
	}
	if err != nil {
		return "", fmt.Errorf("resolve public alias %s: %w", alias, err)
	}
	return acct, nil
}
