package server

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/secrets"
)

// secretStrings reads secret values for the features that keep their
// credentials in Berth's Secrets Manager (remote replication destinations,
// pull through cache upstreams), as each feature's own SecretSource-shaped
// interface asks: a missing secret is the feature's notFound, a value that
// cannot be decrypted (the token key changed) its decrypt error when it
// has one. The Secrets Manager is opened with the server's identities,
// after the features are built: get is asked on each read.
type secretStrings struct {
	get      func() *secrets.Service
	notFound error
	decrypt  error
}

func (r secretStrings) SecretString(ctx context.Context, account, region, id string) (string, error) {
	sec := r.get()
	if sec == nil {
		return "", r.notFound
	}
	v, err := sec.SecretValue(ctx, account, region, id)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return "", r.notFound
	case errors.Is(err, secrets.ErrDecryption) && r.decrypt != nil:
		return "", r.decrypt
	case err != nil:
		return "", err
	}
	return v.String, nil
}
