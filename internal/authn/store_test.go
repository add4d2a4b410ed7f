package authn

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

func newTestStore(t *testing.T) *sqlite.Store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStoreLookup(t *testing.T) {
	ctx := t.Context()
	db := newTestStore(t)
	static := NewKeys(RootCredentials{Account: "000000000000", AccessKeyID: "AKIASTATICROOT000001", SecretAccessKey: "static-secret"})
	dir := NewStore(db, static)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	dir.SetClock(func() time.Time { return now })

	if err := db.CreateAccount(ctx, &meta.IAMAccount{ID: "123456789012", CreatedAt: now},
		&meta.IAMAccessKey{ID: "AKIADBROOT0000000001", SecretAccessKey: "db-root-secret", Status: "Active", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	user := &meta.IAMEntity{Account: "123456789012", Kind: meta.IAMUser, Name: "Bob", Path: "/eng/", ID: "AIDABOB0000000000001", CreatedAt: now}
	role := &meta.IAMEntity{Account: "123456789012", Kind: meta.IAMRole, Name: "deployer", Path: "/ci/", ID: "AROADEPLOYER00000001", CreatedAt: now, MaxSessionDuration: 3600}
	for _, e := range []*meta.IAMEntity{user, role} {
		if err := db.CreateIAMEntity(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []*meta.IAMAccessKey{
		{ID: "AKIABOBACTIVE0000001", Account: "123456789012", UserName: "bob", SecretAccessKey: "bob-secret", Status: "Active"},
		{ID: "AKIABOBINACTIVE00001", Account: "123456789012", UserName: "bob", SecretAccessKey: "bob-secret-2", Status: "Inactive"},
	} {
		if err := db.CreateAccessKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	session := &meta.IAMSession{
		AccessKeyID: "ASIASESSION000000001", SecretAccessKey: "session-secret", SessionToken: "token-1",
		Account: "123456789012", RoleName: "deployer", RolePath: "/ci/", RoleID: role.ID, SessionName: "build-7",
		SourceARN: "arn:aws:iam::123456789012:root", CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute),
	}
	if err := db.CreateRoleSession(ctx, session); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		key    string
		want   Principal
		secret string
	}{
		{"AKIASTATICROOT000001", Principal{Kind: KindRoot, Account: "000000000000", ARN: "arn:aws:iam::000000000000:root", UserID: "000000000000", AccessKeyID: "AKIASTATICROOT000001"}, "static-secret"},
		{"AKIADBROOT0000000001", Principal{Kind: KindRoot, Account: "123456789012", ARN: "arn:aws:iam::123456789012:root", UserID: "123456789012", AccessKeyID: "AKIADBROOT0000000001"}, "db-root-secret"},
		{"AKIABOBACTIVE0000001", Principal{Kind: KindUser, Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/eng/Bob", UserID: user.ID, AccessKeyID: "AKIABOBACTIVE0000001", UserName: "Bob"}, "bob-secret"},
		{"ASIASESSION000000001", Principal{
			Kind: KindAssumedRole, Account: "123456789012", ARN: "arn:aws:sts::123456789012:assumed-role/deployer/build-7",
			UserID: role.ID + ":build-7", AccessKeyID: "ASIASESSION000000001", Expires: session.ExpiresAt,
			RoleName: "deployer", RoleARN: "arn:aws:iam::123456789012:role/ci/deployer", SessionToken: "token-1",
		}, "session-secret"},
	} {
		p, secret, err := dir.Lookup(ctx, tc.key)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", tc.key, err)
		}
		if *p != tc.want || secret != tc.secret {
			t.Errorf("Lookup(%s) = %+v, %q\nwant %+v, %q", tc.key, *p, secret, tc.want, tc.secret)
		}
	}
	for _, key := range []string{"AKIABOBINACTIVE00001", "AKIANOSUCHKEY0000001", "ASIANOSUCHSESSION001"} {
		if _, _, err := dir.Lookup(ctx, key); !errors.Is(err, ErrUnknownAccessKey) {
			t.Errorf("Lookup(%s): error %v, want ErrUnknownAccessKey", key, err)
		}
	}

	// Deactivating, deleting: the next lookup sees it.
	if err := db.UpdateAccessKeyStatus(ctx, "123456789012", "bob", "AKIABOBACTIVE0000001", "Inactive"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dir.Lookup(ctx, "AKIABOBACTIVE0000001"); !errors.Is(err, ErrUnknownAccessKey) {
		t.Errorf("Lookup(deactivated key): error %v, want ErrUnknownAccessKey", err)
	}

	// The session expires on the clock.
	now = session.ExpiresAt.Add(-time.Nanosecond)
	if _, _, err := dir.Lookup(ctx, session.AccessKeyID); err != nil {
		t.Fatalf("Lookup(session, just before expiry): %v", err)
	}
	now = session.ExpiresAt
	_, _, err := dir.Lookup(ctx, session.AccessKeyID)
	if !errors.Is(err, ErrExpiredCredentials) || !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Lookup(expired session): error %v, want ErrExpiredCredentials", err)
	}
}

// TestSessionLoginToken checks that a login token issued to a role session
// expires with the session at the latest.
func TestSessionLoginToken(t *testing.T) {
	ctx := t.Context()
	db := newTestStore(t)
	dir := NewStore(db, nil)
	now := time.Now()
	dir.SetClock(func() time.Time { return now })
	role := &meta.IAMEntity{Account: "123456789012", Kind: meta.IAMRole, Name: "r", Path: "/", ID: "AROAR000000000000001", MaxSessionDuration: 3600}
	if err := db.CreateIAMEntity(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRoleSession(ctx, &meta.IAMSession{AccessKeyID: "ASIAS000000000000001", SecretAccessKey: "s", SessionToken: "t",
		Account: "123456789012", RoleName: "r", RolePath: "/", RoleID: role.ID, SessionName: "x", ExpiresAt: now.Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tokens, err := NewTokens(make([]byte, 32), dir)
	if err != nil {
		t.Fatal(err)
	}
	tokens.now = func() time.Time { return now }
	p, _, err := dir.Lookup(ctx, "ASIAS000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	password, exp := tokens.Issue(p, "us-east-1")
	if exp.After(p.Expires) {
		t.Fatalf("login token expires at %v, after the session (%v)", exp, p.Expires)
	}
	if _, _, err := tokens.Check(ctx, password); err != nil {
		t.Fatalf("Check before expiry: %v", err)
	}
	now = now.Add(16 * time.Minute)
	if _, _, err := tokens.Check(ctx, password); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Check after the session expired: error %v, want ErrTokenExpired", err)
	}
}
