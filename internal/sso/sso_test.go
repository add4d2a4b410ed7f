package sso

import (
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

const account = "000000000000"

type fixture struct {
	*Service
	store *sqlite.Store
	iam   *iam.Service
	now   time.Time
	inst  *meta.SSOInstance
}

// newFixture is the domain over a real store, with IAM making its roles,
// and a clock the test moves.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{store: db, now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	f.iam = iam.New(db, iam.Options{Now: clock})
	f.Service = New(db, f.iam, Options{Account: account, PublicURL: func() string { return "https://berth.example/" },
		AccessTokenTTL: 10 * time.Minute, SessionTTL: time.Hour, Now: clock, Logger: slog.New(slog.DiscardHandler)})
	f.inst, err = f.Instance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func wantKind(t *testing.T, label string, err, kind error) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) || !errors.Is(err, kind) {
		t.Fatalf("%s: error %v, want an *sso.Error of kind %v", label, err, kind)
	}
}

// signIn creates alice with a permission set assigned in the account, and
// runs the device flow to its tokens.
func (f *fixture) signIn(t *testing.T) (*Client, *Tokens, *meta.SSOPermissionSet) {
	t.Helper()
	ctx := t.Context()
	u, err := f.CreateUser(ctx, NewUser{IdentityStoreID: f.inst.IdentityStoreID, UserName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := f.CreatePermissionSet(ctx, NewPermissionSet{InstanceARN: f.inst.ARN, Name: "EcrPower", SessionDuration: "PT2H"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AttachManagedPolicy(ctx, f.inst.ARN, ps.ARN, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"); err != nil {
		t.Fatal(err)
	}
	if err := f.CreateAccountAssignment(ctx, Assignment{InstanceARN: f.inst.ARN, PermissionSetARN: ps.ARN, Account: account, PrincipalType: "USER", PrincipalID: u.UserID}); err != nil {
		t.Fatal(err)
	}
	c, err := f.RegisterClient(ctx, "test", "public", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.StartDeviceAuthorization(ctx, c.ID, c.Secret, f.StartURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ApproveDevice(ctx, strings.ToLower(d.UserCode), "ALICE"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.CreateToken(ctx, TokenRequest{ClientID: c.ID, ClientSecret: c.Secret, GrantType: GrantDeviceCode, DeviceCode: d.DeviceCode})
	if err != nil {
		t.Fatal(err)
	}
	return c, tok, ps
}

func TestDeviceFlow(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.CreateUser(ctx, NewUser{IdentityStoreID: f.inst.IdentityStoreID, UserName: "bob"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.RegisterClient(ctx, "cli", "public", []string{"sso:account:access"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.StartDeviceAuthorization(ctx, c.ID, c.Secret, "https://berth.example/start")
	if err != nil {
		t.Fatal(err)
	}
	if d.VerificationURI != "https://berth.example/device" || d.VerificationURIComplete != d.VerificationURI+"?user_code="+d.UserCode ||
		d.ExpiresIn != 600 || d.Interval != 1 || len(d.UserCode) != 9 {
		t.Errorf("StartDeviceAuthorization = %+v", d)
	}
	poll := func(deviceCode string) error {
		_, err := f.CreateToken(ctx, TokenRequest{ClientID: c.ID, ClientSecret: c.Secret, GrantType: GrantDeviceCode, DeviceCode: deviceCode})
		return err
	}
	steps := []struct {
		name    string
		advance time.Duration
		do      func() error
		want    error
	}{
		{"wrong secret", 0, func() error {
			_, err := f.CreateToken(ctx, TokenRequest{ClientID: c.ID, ClientSecret: "x", GrantType: GrantDeviceCode, DeviceCode: d.DeviceCode})
			return err
		}, ErrInvalidClient},
		{"unknown grant type", 0, func() error {
			_, err := f.CreateToken(ctx, TokenRequest{ClientID: c.ID, ClientSecret: c.Secret, GrantType: "password"})
			return err
		}, ErrUnsupportedGrantType},
		{"unknown device code", 0, func() error { return poll("nope") }, ErrInvalidGrant},
		{"first poll: pending", 0, func() error { return poll(d.DeviceCode) }, ErrAuthorizationPending},
		{"too soon: slow down", 500 * time.Millisecond, func() error { return poll(d.DeviceCode) }, ErrSlowDown},
		{"after the interval: pending", 2 * time.Second, func() error { return poll(d.DeviceCode) }, ErrAuthorizationPending},
		{"approve for a user who does not exist", 0, func() error { return f.ApproveDevice(ctx, d.UserCode, "carol") }, ErrNotFound},
		{"approve", 0, func() error { return f.ApproveDevice(ctx, d.UserCode, "bob") }, nil},
		{"approve again", 0, func() error { return f.ApproveDevice(ctx, d.UserCode, "bob") }, ErrNotFound},
		{"redeem", 2 * time.Second, func() error { return poll(d.DeviceCode) }, nil},
		{"redeem again", 2 * time.Second, func() error { return poll(d.DeviceCode) }, ErrInvalidGrant},
	}
	for _, st := range steps {
		f.now = f.now.Add(st.advance)
		err := st.do()
		if st.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			continue
		}
		wantKind(t, st.name, err, st.want)
	}

	// A code not approved in time expires.
	late, err := f.StartDeviceAuthorization(ctx, c.ID, c.Secret, "")
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(11 * time.Minute)
	wantKind(t, "expired device code", poll(late.DeviceCode), ErrExpiredToken)
	wantKind(t, "approve an expired code", f.ApproveDevice(ctx, late.UserCode, "bob"), ErrNotFound)
}

func TestRefreshAndSessionEnd(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c, tok, _ := f.signIn(t)
	if tok.ExpiresIn != 600 {
		t.Errorf("access token lasts %ds, want 600", tok.ExpiresIn)
	}
	refresh := func(rt string) (*Tokens, error) {
		return f.CreateToken(ctx, TokenRequest{ClientID: c.ID, ClientSecret: c.Secret, GrantType: GrantRefreshToken, RefreshToken: rt})
	}
	f.now = f.now.Add(11 * time.Minute)
	_, err := f.Accounts(ctx, tok.AccessToken)
	wantKind(t, "expired access token", err, ErrUnauthorized)
	next, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if accounts, err := f.Accounts(ctx, next.AccessToken); err != nil || !slices.Equal(accounts, []string{account}) {
		t.Errorf("Accounts after refresh = %v, %v", accounts, err)
	}
	_, err = refresh(tok.RefreshToken)
	wantKind(t, "a refresh token is used once", err, ErrInvalidGrant)

	// The session (an hour) bounds the access tokens of later refreshes.
	f.now = f.now.Add(45 * time.Minute)
	last, err := refresh(next.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if last.ExpiresIn != 4*60 {
		t.Errorf("access token near the session's end lasts %ds, want 240", last.ExpiresIn)
	}
	f.now = f.now.Add(5 * time.Minute)
	_, err = refresh(last.RefreshToken)
	wantKind(t, "refresh after the session ended", err, ErrInvalidGrant)
}

func TestRoleCredentials(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	_, tok, ps := f.signIn(t)

	roles, err := f.AccountRoles(ctx, tok.AccessToken, account)
	if err != nil || !slices.Equal(roles, []string{"EcrPower"}) {
		t.Fatalf("AccountRoles = %v, %v", roles, err)
	}
	rc, err := f.RoleCredentials(ctx, tok.AccessToken, account, "EcrPower")
	if err != nil {
		t.Fatal(err)
	}
	roleName := RoleName(ps, account)
	if !strings.HasPrefix(roleName, "AWSReservedSSO_EcrPower_") || len(roleName) != len("AWSReservedSSO_EcrPower_")+16 {
		t.Errorf("role name %s", roleName)
	}
	if want := "arn:aws:sts::" + account + ":assumed-role/" + roleName + "/alice"; rc.ARN != want {
		t.Errorf("session ARN %s, want %s", rc.ARN, want)
	}
	if want := f.now.Add(2 * time.Hour); !rc.Expiration.Equal(want) {
		t.Errorf("credentials expire %v, want %v (the set's PT2H)", rc.Expiration, want)
	}
	// The credentials are a session of the provisioned role, which
	// carries the set's policies.
	role, err := f.store.GetIAMEntity(ctx, account, meta.IAMRole, roleName)
	if err != nil || role.Path != iam.SSORolePath || iam.EntityARN(role) != RoleARN(ps, account) {
		t.Fatalf("provisioned role = %+v, %v", role, err)
	}
	if !strings.HasPrefix(rc.AccessKeyID, authn.SessionKeyPrefix) || rc.SessionToken == "" {
		t.Errorf("credentials %+v are not a role session's", rc)
	}
	attached, err := f.store.ListAttachedPolicies(ctx, account, meta.IAMRole, roleName)
	if err != nil || !slices.Equal(attached, []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"}) {
		t.Errorf("role's policies = %v, %v", attached, err)
	}
	const inline = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*"}]}`
	if err := f.PutInlinePolicy(ctx, f.inst.ARN, ps.ARN, inline); err != nil {
		t.Fatal(err)
	}
	if doc, err := f.store.GetInlinePolicy(ctx, account, meta.IAMRole, roleName, iam.SSOInlinePolicyName); err != nil || doc.Document != inline {
		t.Errorf("inline policy on the role = %+v, %v (re-provisioned at once)", doc, err)
	}

	_, err = f.RoleCredentials(ctx, tok.AccessToken, account, "Other")
	wantKind(t, "a set the user does not hold", err, ErrNotFound)
	_, err = f.RoleCredentials(ctx, tok.AccessToken, "111111111111", "EcrPower")
	wantKind(t, "an account the user has nothing in", err, ErrNotFound)
	wantKind(t, "assign in an account the deployment lacks", f.CreateAccountAssignment(ctx, Assignment{InstanceARN: f.inst.ARN,
		PermissionSetARN: ps.ARN, Account: "111111111111", PrincipalType: "USER", PrincipalID: "whoever"}), ErrNotFound)
	wantKind(t, "assign a group", f.CreateAccountAssignment(ctx, Assignment{InstanceARN: f.inst.ARN,
		PermissionSetARN: ps.ARN, Account: account, PrincipalType: "GROUP", PrincipalID: "g"}), ErrValidation)

	// The last assignment's deletion takes the role with it.
	as, err := f.AccountAssignments(ctx, f.inst.ARN, account, ps.ARN)
	if err != nil || len(as) != 1 {
		t.Fatalf("AccountAssignments = %v, %v", as, err)
	}
	wantKind(t, "delete an assigned set", f.DeletePermissionSet(ctx, f.inst.ARN, ps.ARN), ErrConflict)
	a := Assignment{InstanceARN: f.inst.ARN, PermissionSetARN: ps.ARN, Account: account, PrincipalType: "USER", PrincipalID: as[0].PrincipalID}
	if err := f.DeleteAccountAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetIAMEntity(ctx, account, meta.IAMRole, roleName); !errors.Is(err, meta.ErrIAMNotFound) {
		t.Errorf("role after the last assignment went: %v", err)
	}
	if err := f.DeletePermissionSet(ctx, f.inst.ARN, ps.ARN); err != nil {
		t.Fatal(err)
	}

	if err := f.Logout(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err = f.Accounts(ctx, tok.AccessToken)
	wantKind(t, "after logout", err, ErrUnauthorized)
}

func TestPasswords(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.CreateUser(ctx, NewUser{IdentityStoreID: f.inst.IdentityStoreID, UserName: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Authenticate(ctx, "alice", "")
	wantKind(t, "no password set yet", err, ErrAccessDenied)
	wantKind(t, "short password", f.SetPassword(ctx, "alice", "short"), ErrValidation)
	wantKind(t, "unknown user", f.SetPassword(ctx, "nobody", "long enough"), ErrNotFound)
	if err := f.SetPassword(ctx, "alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, password string }{{"alice", "wrong horse"}, {"nobody", "correct horse"}} {
		_, err := f.Authenticate(ctx, tc.user, tc.password)
		wantKind(t, tc.user+"/"+tc.password, err, ErrAccessDenied)
		// One message for both: it must not tell whether the user exists.
		if err.Error() != "Incorrect user name or password." {
			t.Errorf("message %q", err.Error())
		}
	}
	if u, err := f.Authenticate(ctx, "ALICE", "correct horse"); err != nil || u.UserName != "alice" {
		t.Errorf("Authenticate = %+v, %v", u, err)
	}
	stored, _ := f.store.GetSSOUserByName(ctx, f.inst.IdentityStoreID, "alice")
	if !strings.HasPrefix(stored.PasswordHash, "$2") {
		t.Errorf("stored password is not a bcrypt hash: %q", stored.PasswordHash)
	}
}

func TestParseSessionDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT1H", time.Hour, true},
		{"PT12H", 12 * time.Hour, true},
		{"PT90M", 90 * time.Minute, true},
		{"PT30M", 0, false},
		{"PT13H", 0, false},
		{"P1D", 0, false},
		{"1H", 0, false},
		{"PT", 0, false},
	} {
		got, err := ParseSessionDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSessionDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestNormalizeUserCode(t *testing.T) {
	for in, want := range map[string]string{"abcd-efgh": "ABCD-EFGH", " ABCDEFGH ": "ABCD-EFGH", "ab cd ef gh": "ABCD-EFGH", "abc": "ABC"} {
		if got := NormalizeUserCode(in); got != want {
			t.Errorf("NormalizeUserCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRandomTokenNeverLooksLikeAnOption: a value the AWS CLI is given
// after --client-secret or --access-token must not start with '-'. One
// token in 64 would without the check; 5,000 find it.
func TestRandomTokenNeverLooksLikeAnOption(t *testing.T) {
	for range 5000 {
		if tok := randomToken(""); tok[0] == '-' {
			t.Fatalf("randomToken() = %q starts with '-'", tok)
		}
	}
}
