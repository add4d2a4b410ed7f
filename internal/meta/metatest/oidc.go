package metatest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// The web identity part of the suite: OIDC providers, and GetSessionToken's
// user sessions kept beside role sessions.

func oidcARN(account, url string) string { return "arn:aws:iam::" + account + ":oidc-provider/" + url }

func testIAMOIDCProviders(t *testing.T, s meta.Store) {
	ctx := t.Context()
	gh := &meta.IAMOIDCProvider{
		ARN: oidcARN(acctA, "token.actions.githubusercontent.com"), Account: acctA, URL: "token.actions.githubusercontent.com",
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}, CreatedAt: at(1),
	}
	gl := &meta.IAMOIDCProvider{ARN: oidcARN(acctA, "gitlab.example.com/ci"), Account: acctA, URL: "gitlab.example.com/ci", CreatedAt: at(2)}
	other := &meta.IAMOIDCProvider{ARN: oidcARN(acctB, "token.actions.githubusercontent.com"), Account: acctB, URL: "token.actions.githubusercontent.com", CreatedAt: at(3)}
	for _, p := range []*meta.IAMOIDCProvider{gh, gl, other} {
		if err := s.CreateOIDCProvider(ctx, p); err != nil {
			t.Fatalf("CreateOIDCProvider(%s): %v", p.ARN, err)
		}
	}
	wantIAM(t, "CreateOIDCProvider(taken)", s.CreateOIDCProvider(ctx, gh), meta.ErrIAMExists, meta.IAMWhatOIDCProvider, gh.ARN, "")

	got, err := s.GetOIDCProvider(ctx, gh.ARN)
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "provider CreatedAt", got.CreatedAt, gh.CreatedAt)
	if got.URL != gh.URL || got.Account != acctA || !slices.Equal(got.ClientIDs, gh.ClientIDs) || !slices.Equal(got.Thumbprints, gh.Thumbprints) {
		t.Errorf("GetOIDCProvider = %+v, want %+v", got, gh)
	}
	// Empty lists read back empty, not as an error.
	if got, err := s.GetOIDCProvider(ctx, gl.ARN); err != nil || len(got.ClientIDs) != 0 || len(got.Thumbprints) != 0 {
		t.Errorf("GetOIDCProvider(no lists) = %+v, %v", got, err)
	}
	_, err = s.GetOIDCProvider(ctx, oidcARN(acctA, "nowhere.example"))
	wantIAM(t, "GetOIDCProvider(missing)", err, meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, oidcARN(acctA, "nowhere.example"), "")

	list, err := s.ListOIDCProviders(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range list {
		arns = append(arns, p.ARN)
	}
	if want := []string{gl.ARN, gh.ARN}; !slices.Equal(arns, want) {
		t.Errorf("ListOIDCProviders(A) = %v, want %v (ARN order, A's only)", arns, want)
	}

	err = s.UpdateOIDCProvider(ctx, gh.ARN, func(p *meta.IAMOIDCProvider) error {
		p.ClientIDs = append(p.ClientIDs, "berth")
		p.Thumbprints = nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetOIDCProvider(ctx, gh.ARN); !slices.Equal(got.ClientIDs, []string{"sts.amazonaws.com", "berth"}) || len(got.Thumbprints) != 0 {
		t.Errorf("after UpdateOIDCProvider: %+v", got)
	}
	refuse := errors.New("refused")
	if err := s.UpdateOIDCProvider(ctx, gh.ARN, func(p *meta.IAMOIDCProvider) error { p.ClientIDs = nil; return refuse }); !errors.Is(err, refuse) {
		t.Errorf("UpdateOIDCProvider(update fails) = %v, want the update's error", err)
	}
	if got, _ := s.GetOIDCProvider(ctx, gh.ARN); len(got.ClientIDs) != 2 {
		t.Errorf("a failed update changed the provider: %+v", got)
	}
	wantIAM(t, "UpdateOIDCProvider(missing)", s.UpdateOIDCProvider(ctx, oidcARN(acctA, "x.example"), func(*meta.IAMOIDCProvider) error { return nil }),
		meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, oidcARN(acctA, "x.example"), "")

	if err := s.DeleteOIDCProvider(ctx, gh.ARN); err != nil {
		t.Fatal(err)
	}
	wantIAM(t, "DeleteOIDCProvider(again)", s.DeleteOIDCProvider(ctx, gh.ARN), meta.ErrIAMNotFound, meta.IAMWhatOIDCProvider, gh.ARN, "")
	if _, err := s.GetOIDCProvider(ctx, other.ARN); err != nil {
		t.Errorf("deleting A's provider touched B's: %v", err)
	}
}

// testIAMOIDCProviderConcurrentUpdates: updates are read-modify-write in
// one transaction, so concurrent AddClientIDToOpenIDConnectProvider calls
// (on any node) all land.
func testIAMOIDCProviderConcurrentUpdates(t *testing.T, s meta.Store) {
	ctx := t.Context()
	arn := oidcARN(acctA, "issuer.example")
	if err := s.CreateOIDCProvider(ctx, &meta.IAMOIDCProvider{ARN: arn, Account: acctA, URL: "issuer.example", CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.UpdateOIDCProvider(ctx, arn, func(p *meta.IAMOIDCProvider) error {
				p.ClientIDs = append(p.ClientIDs, fmt.Sprintf("client-%d", i))
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateOIDCProvider: %v", err)
		}
	}
	got, err := s.GetOIDCProvider(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ClientIDs) != n {
		t.Errorf("after %d concurrent adds: %v", n, got.ClientIDs)
	}
}

func testIAMUserSessions(t *testing.T, s meta.Store) {
	ctx := t.Context()
	user := newEntity(t, s, acctA, meta.IAMUser, "Builder", "/")
	session := func(id, userName string) *meta.IAMSession {
		return &meta.IAMSession{
			AccessKeyID: id, SecretAccessKey: "secret-" + id, SessionToken: "token-" + id,
			Account: acctA, UserName: userName, SourceARN: "arn:aws:iam::" + acctA + ":user/" + userName,
			CreatedAt: at(0), ExpiresAt: at(43200),
		}
	}
	us := session("ASIAUSERSESSION1", user.Name)
	if err := s.CreateRoleSession(ctx, us); err != nil {
		t.Fatalf("CreateRoleSession(user's): %v", err)
	}
	if err := s.CreateRoleSession(ctx, session("ASIAROOTSESSION1", "")); err != nil {
		t.Fatalf("CreateRoleSession(root's): %v", err)
	}
	wantIAM(t, "CreateRoleSession(no such user)", s.CreateRoleSession(ctx, session("ASIAUSERSESSION2", "Nobody")), meta.ErrIAMNotFound, "user", "Nobody", "")
	got, err := s.GetRoleSession(ctx, us.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserName != user.Name || got.RoleID != "" || got.RoleName != "" {
		t.Errorf("GetRoleSession(user's) = %+v", got)
	}
}
