package iam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
)

// GetSessionToken: temporary credentials for an IAM user (or an account's
// root) that act with the caller's own policies. They are stored beside
// role sessions, with no role, so every node accepts them.

// STS's bounds on GetSessionToken's DurationSeconds, in seconds. The model
// already refuses less than 900 and more than 129,600.
const (
	defaultUserSessionDuration = 43200
	rootSessionLimit           = 3600
)

// GetSessionToken makes session credentials for caller, lasting
// durationSeconds (0: twelve hours). A root's last at most an hour: a
// longer request gets an hour, as STS does.
func (s *Service) GetSessionToken(ctx context.Context, caller *authn.Principal, durationSeconds int) (*Session, error) {
	if caller.Kind == authn.KindAssumedRole || caller.SessionToken != "" {
		return nil, errorf(ErrAccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	duration := durationSeconds
	if duration == 0 {
		duration = defaultUserSessionDuration
	}
	rootCaller := caller.Kind == authn.KindRoot || caller.Kind == ""
	if rootCaller && duration > rootSessionLimit {
		duration = rootSessionLimit
	}
	now := s.now().UTC()
	us := &Session{
		AccessKeyID: authn.NewID(authn.SessionKeyPrefix, 16), SecretAccessKey: authn.NewSecretAccessKey(),
		SessionToken: authn.NewSessionToken(), Account: caller.Account, UserName: caller.UserName,
		SourceARN: caller.ARN, CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(duration) * time.Second).Truncate(time.Second),
	}
	err := s.store.CreateRoleSession(ctx, us)
	if errors.Is(err, meta.ErrIAMNotFound) {
		// The user was deleted after signing the request.
		return nil, errorf(ErrAccessDenied, "The security token included in the request is invalid.")
	}
	if err != nil {
		return nil, fmt.Errorf("iam: create a session of %s: %w", caller.ARN, err)
	}
	s.deleteExpiredSessions(ctx, now)
	return us, nil
}
