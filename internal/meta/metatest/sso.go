package metatest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// The IAM Identity Center part of the suite: the instance, identity store
// users, permission sets and assignments, and the device flow's clients,
// authorizations and tokens.

const (
	ssoStore    = "d-0123456789"
	ssoInstance = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
)

func psARN(id string) string { return "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-" + id }

func testSSOInstance(t *testing.T, s meta.Store) {
	ctx := t.Context()
	first := &meta.SSOInstance{ARN: ssoInstance, IdentityStoreID: ssoStore, Account: acctA, CreatedAt: at(1)}
	got, err := s.EnsureSSOInstance(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if got.ARN != first.ARN || got.IdentityStoreID != ssoStore || got.Account != acctA {
		t.Errorf("EnsureSSOInstance(first) = %+v, want %+v", got, first)
	}
	// A second node starting with ids of its own gets the first's.
	got, err = s.EnsureSSOInstance(ctx, &meta.SSOInstance{ARN: "arn:aws:sso:::instance/ssoins-ffffffffffffffff", IdentityStoreID: "d-ffffffffff", Account: acctA, CreatedAt: at(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got.ARN != first.ARN || got.IdentityStoreID != ssoStore {
		t.Errorf("EnsureSSOInstance(second) = %+v, want the first instance", got)
	}
	checkTime(t, "instance CreatedAt", got.CreatedAt, first.CreatedAt)
}

func newSSOUser(t *testing.T, s meta.Store, id, name string) *meta.SSOUser {
	t.Helper()
	u := &meta.SSOUser{IdentityStoreID: ssoStore, UserID: id, UserName: name, DisplayName: name + " D", GivenName: "G", FamilyName: "F",
		Emails: []meta.SSOEmail{{Value: name + "@example.com", Type: "work", Primary: true}}, CreatedAt: at(3)}
	if err := s.CreateSSOUser(t.Context(), u); err != nil {
		t.Fatalf("CreateSSOUser(%s): %v", name, err)
	}
	return u
}

func testSSOUsers(t *testing.T, s meta.Store) {
	ctx := t.Context()
	alice := newSSOUser(t, s, "u-1", "Alice")
	newSSOUser(t, s, "u-2", "bob")
	wantIAM(t, "CreateSSOUser(same name, other case)", s.CreateSSOUser(ctx, &meta.SSOUser{IdentityStoreID: ssoStore, UserID: "u-3", UserName: "ALICE"}),
		meta.ErrIAMExists, meta.SSOWhatUser, "ALICE", "")

	got, err := s.GetSSOUserByName(ctx, ssoStore, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "user CreatedAt", got.CreatedAt, alice.CreatedAt)
	if got.UserID != "u-1" || got.UserName != "Alice" || got.DisplayName != alice.DisplayName || !slices.Equal(got.Emails, alice.Emails) || got.PasswordHash != "" {
		t.Errorf("GetSSOUserByName = %+v, want %+v", got, alice)
	}
	if _, err := s.GetSSOUser(ctx, ssoStore, "u-2"); err != nil {
		t.Errorf("GetSSOUser(u-2): %v", err)
	}
	_, err = s.GetSSOUser(ctx, "d-other00000", "u-1")
	wantIAM(t, "GetSSOUser(other store)", err, meta.ErrIAMNotFound, meta.SSOWhatUser, "u-1", "")

	if err := s.SetSSOUserPassword(ctx, ssoStore, "u-1", "$2a$10$hash"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSSOUser(ctx, ssoStore, "u-1"); got.PasswordHash != "$2a$10$hash" {
		t.Errorf("PasswordHash after SetSSOUserPassword = %q", got.PasswordHash)
	}
	wantIAM(t, "SetSSOUserPassword(missing)", s.SetSSOUserPassword(ctx, ssoStore, "u-9", "x"), meta.ErrIAMNotFound, meta.SSOWhatUser, "u-9", "")

	list, err := s.ListSSOUsers(ctx, ssoStore)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.UserName)
	}
	if !slices.Equal(names, []string{"Alice", "bob"}) {
		t.Errorf("ListSSOUsers = %v, want [Alice bob] (case-insensitive name order)", names)
	}

	// Deleting a user takes its assignments and tokens with it.
	newPermissionSet(t, s, "1", "Dev")
	a := &meta.SSOAssignment{InstanceARN: ssoInstance, PermissionSetARN: psARN("1"), Account: acctA, PrincipalType: "USER", PrincipalID: "u-1", CreatedAt: at(4)}
	if err := s.CreateSSOAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	tok := &meta.SSOToken{TokenHash: "h1", Kind: meta.SSOAccessToken, ClientID: "c", IdentityStoreID: ssoStore, UserID: "u-1", CreatedAt: at(0), ExpiresAt: at(3600)}
	if err := s.CreateSSOTokens(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSSOUser(ctx, ssoStore, "u-1"); err != nil {
		t.Fatal(err)
	}
	wantIAM(t, "DeleteSSOUser(again)", s.DeleteSSOUser(ctx, ssoStore, "u-1"), meta.ErrIAMNotFound, meta.SSOWhatUser, "u-1", "")
	if as, _ := s.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{PrincipalID: "u-1"}); len(as) != 0 {
		t.Errorf("assignments of a deleted user: %v", as)
	}
	_, err = s.GetSSOToken(ctx, "h1")
	wantIAM(t, "GetSSOToken(deleted user's)", err, meta.ErrIAMNotFound, meta.SSOWhatToken, "", "")
}

func newPermissionSet(t *testing.T, s meta.Store, id, name string) *meta.SSOPermissionSet {
	t.Helper()
	ps := &meta.SSOPermissionSet{ARN: psARN(id), InstanceARN: ssoInstance, Name: name, Description: "d", SessionDuration: "PT1H", CreatedAt: at(5)}
	if err := s.CreatePermissionSet(t.Context(), ps); err != nil {
		t.Fatalf("CreatePermissionSet(%s): %v", name, err)
	}
	return ps
}

func testSSOPermissionSets(t *testing.T, s meta.Store) {
	ctx := t.Context()
	dev := newPermissionSet(t, s, "1", "Dev")
	newPermissionSet(t, s, "0", "Ops")
	wantIAM(t, "CreatePermissionSet(same name)", s.CreatePermissionSet(ctx, &meta.SSOPermissionSet{ARN: psARN("2"), InstanceARN: ssoInstance, Name: "DEV"}),
		meta.ErrIAMExists, meta.SSOWhatPermissionSet, "DEV", "")

	const pol = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`
	err := s.UpdatePermissionSet(ctx, dev.ARN, func(ps *meta.SSOPermissionSet) error {
		ps.ManagedPolicies = append(ps.ManagedPolicies, "arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B")
		ps.InlinePolicy, ps.SessionDuration, ps.Description = pol, "PT8H", "new"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	if err := s.UpdatePermissionSet(ctx, dev.ARN, func(ps *meta.SSOPermissionSet) error { ps.InlinePolicy = ""; return stop }); !errors.Is(err, stop) {
		t.Errorf("UpdatePermissionSet(update fails) = %v, want its error", err)
	}
	got, err := s.GetPermissionSet(ctx, dev.ARN)
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "permission set CreatedAt", got.CreatedAt, dev.CreatedAt)
	if got.Name != "Dev" || got.InlinePolicy != pol || got.SessionDuration != "PT8H" || got.Description != "new" ||
		!slices.Equal(got.ManagedPolicies, []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"}) {
		t.Errorf("GetPermissionSet after update = %+v", got)
	}
	wantIAM(t, "UpdatePermissionSet(missing)", s.UpdatePermissionSet(ctx, psARN("9"), func(*meta.SSOPermissionSet) error { return nil }),
		meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, psARN("9"), "")

	list, err := s.ListPermissionSets(ctx, ssoInstance)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ARN != psARN("0") || list[1].ARN != psARN("1") {
		t.Errorf("ListPermissionSets = %v, want ARN order", list)
	}

	// Assignments.
	newSSOUser(t, s, "u-1", "alice")
	newSSOUser(t, s, "u-2", "bob")
	a1 := &meta.SSOAssignment{InstanceARN: ssoInstance, PermissionSetARN: dev.ARN, Account: acctB, PrincipalType: "USER", PrincipalID: "u-1", CreatedAt: at(6)}
	a2 := &meta.SSOAssignment{InstanceARN: ssoInstance, PermissionSetARN: dev.ARN, Account: acctA, PrincipalType: "USER", PrincipalID: "u-2", CreatedAt: at(6)}
	for _, a := range []*meta.SSOAssignment{a1, a2} {
		if err := s.CreateSSOAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	wantIAM(t, "CreateSSOAssignment(again)", s.CreateSSOAssignment(ctx, a1), meta.ErrIAMExists, meta.SSOWhatAssignment,
		acctB+"/"+dev.ARN+"/USER/u-1", "")
	missingUser := *a1
	missingUser.PrincipalID = "u-9"
	wantIAM(t, "CreateSSOAssignment(no user)", s.CreateSSOAssignment(ctx, &missingUser), meta.ErrIAMNotFound, meta.SSOWhatUser, "u-9", "")
	missingPS := *a1
	missingPS.PermissionSetARN = psARN("9")
	wantIAM(t, "CreateSSOAssignment(no permission set)", s.CreateSSOAssignment(ctx, &missingPS), meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, psARN("9"), "")

	for _, tc := range []struct {
		q    meta.SSOAssignmentQuery
		want []string
	}{
		{meta.SSOAssignmentQuery{}, []string{acctA + " u-2", acctB + " u-1"}},
		{meta.SSOAssignmentQuery{Account: acctB}, []string{acctB + " u-1"}},
		{meta.SSOAssignmentQuery{PrincipalID: "u-2"}, []string{acctA + " u-2"}},
		{meta.SSOAssignmentQuery{PermissionSetARN: psARN("0")}, nil},
		{meta.SSOAssignmentQuery{InstanceARN: ssoInstance, PermissionSetARN: dev.ARN, Account: acctA}, []string{acctA + " u-2"}},
	} {
		list, err := s.ListSSOAssignments(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range list {
			got = append(got, a.Account+" "+a.PrincipalID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ListSSOAssignments(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	wantIAM(t, "DeletePermissionSet(assigned)", s.DeletePermissionSet(ctx, dev.ARN), meta.ErrIAMConflict, meta.SSOWhatPermissionSet, dev.ARN, meta.SSOBlockedByAssignments)
	for _, a := range []*meta.SSOAssignment{a1, a2} {
		if err := s.DeleteSSOAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	wantIAM(t, "DeleteSSOAssignment(again)", s.DeleteSSOAssignment(ctx, a1), meta.ErrIAMNotFound, meta.SSOWhatAssignment, acctB+"/"+dev.ARN+"/USER/u-1", "")
	if err := s.DeletePermissionSet(ctx, dev.ARN); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPermissionSet(ctx, dev.ARN)
	wantIAM(t, "GetPermissionSet(deleted)", err, meta.ErrIAMNotFound, meta.SSOWhatPermissionSet, dev.ARN, "")
}

func testSSOClients(t *testing.T, s meta.Store) {
	ctx := t.Context()
	c := &meta.SSOClient{ClientID: "client-1", SecretHash: "abc", Name: "botocore", Type: "public", Scopes: []string{"sso:account:access"}, CreatedAt: at(0), ExpiresAt: at(90 * 86400)}
	if err := s.CreateSSOClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantIAM(t, "CreateSSOClient(again)", s.CreateSSOClient(ctx, c), meta.ErrIAMExists, meta.SSOWhatClient, "client-1", "")
	got, err := s.GetSSOClient(ctx, "client-1")
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "client ExpiresAt", got.ExpiresAt, c.ExpiresAt)
	if got.SecretHash != "abc" || got.Name != "botocore" || got.Type != "public" || !slices.Equal(got.Scopes, c.Scopes) {
		t.Errorf("GetSSOClient = %+v, want %+v", got, c)
	}
	_, err = s.GetSSOClient(ctx, "client-2")
	wantIAM(t, "GetSSOClient(missing)", err, meta.ErrIAMNotFound, meta.SSOWhatClient, "client-2", "")
}

func testSSODeviceFlow(t *testing.T, s meta.Store) {
	ctx := t.Context()
	d := &meta.SSODeviceAuthorization{DeviceCodeHash: "dev1", UserCode: "ABCD-EFGH", ClientID: "client-1", StartURL: "https://berth/start",
		Interval: 5, CreatedAt: at(0), ExpiresAt: at(600)}
	if err := s.CreateDeviceAuthorization(ctx, d); err != nil {
		t.Fatal(err)
	}
	taken := *d
	taken.DeviceCodeHash = "dev2"
	wantIAM(t, "CreateDeviceAuthorization(user code taken)", s.CreateDeviceAuthorization(ctx, &taken), meta.ErrIAMExists, meta.SSOWhatDevice, "ABCD-EFGH", "")

	got, err := s.GetDeviceAuthorizationByUserCode(ctx, "ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "device ExpiresAt", got.ExpiresAt, d.ExpiresAt)
	if got.DeviceCodeHash != "dev1" || got.Interval != 5 || got.StartURL != d.StartURL || got.ApprovedBy != "" || !got.LastPolledAt.IsZero() {
		t.Errorf("GetDeviceAuthorizationByUserCode = %+v", got)
	}

	// Each poll sees the one before it.
	prev, err := s.PollDeviceAuthorization(ctx, "dev1", at(10))
	if err != nil || !prev.LastPolledAt.IsZero() {
		t.Fatalf("first PollDeviceAuthorization = %+v, %v; want no earlier poll", prev, err)
	}
	prev, err = s.PollDeviceAuthorization(ctx, "dev1", at(12))
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "second poll's LastPolledAt", prev.LastPolledAt, at(10))
	_, err = s.PollDeviceAuthorization(ctx, "nope", at(12))
	wantIAM(t, "PollDeviceAuthorization(missing)", err, meta.ErrIAMNotFound, meta.SSOWhatDevice, "", "")

	tok := &meta.SSOToken{TokenHash: "acc1", Kind: meta.SSOAccessToken, ClientID: "client-1", IdentityStoreID: ssoStore, UserID: "u-1", CreatedAt: at(20), ExpiresAt: at(3620)}
	wantIAM(t, "RedeemDeviceAuthorization(not approved)", s.RedeemDeviceAuthorization(ctx, "dev1", tok), meta.ErrIAMNotFound, meta.SSOWhatDevice, "", "")
	wantIAM(t, "ApproveDeviceAuthorization(expired)", s.ApproveDeviceAuthorization(ctx, "ABCD-EFGH", "u-1", at(601)), meta.ErrIAMNotFound, meta.SSOWhatDevice, "ABCD-EFGH", "")
	if err := s.ApproveDeviceAuthorization(ctx, "ABCD-EFGH", "u-1", at(15)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDeviceAuthorizationByUserCode(ctx, "ABCD-EFGH"); got.ApprovedBy != "u-1" {
		t.Errorf("ApprovedBy = %q after approval", got.ApprovedBy)
	} else {
		checkTime(t, "ApprovedAt", got.ApprovedAt, at(15))
	}
	if err := s.RedeemDeviceAuthorization(ctx, "dev1", tok); err != nil {
		t.Fatal(err)
	}
	wantIAM(t, "RedeemDeviceAuthorization(again)", s.RedeemDeviceAuthorization(ctx, "dev1"), meta.ErrIAMNotFound, meta.SSOWhatDevice, "", "")
	if got, err := s.GetSSOToken(ctx, "acc1"); err != nil || got.UserID != "u-1" || got.Kind != meta.SSOAccessToken {
		t.Errorf("GetSSOToken(acc1) = %+v, %v", got, err)
	}

	// An expired authorization's user code may be handed out again.
	again := *d
	again.DeviceCodeHash, again.CreatedAt, again.ExpiresAt = "dev3", at(700), at(1300)
	old := *d
	old.DeviceCodeHash = "dev4"
	if err := s.CreateDeviceAuthorization(ctx, &old); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDeviceAuthorization(ctx, &again); err != nil {
		t.Errorf("CreateDeviceAuthorization(code of an expired one) = %v", err)
	}
}

func testSSOTokens(t *testing.T, s meta.Store) {
	ctx := t.Context()
	tok := func(hash string, kind meta.SSOTokenKind, expires int) *meta.SSOToken {
		return &meta.SSOToken{TokenHash: hash, Kind: kind, ClientID: "c", IdentityStoreID: ssoStore, UserID: "u-1", CreatedAt: at(0), ExpiresAt: at(expires)}
	}
	if err := s.CreateSSOTokens(ctx, tok("a1", meta.SSOAccessToken, 60), tok("r1", meta.SSORefreshToken, 3600)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSSOToken(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "token ExpiresAt", got.ExpiresAt, at(3600))
	if got.Kind != meta.SSORefreshToken || got.ClientID != "c" || got.IdentityStoreID != ssoStore {
		t.Errorf("GetSSOToken(r1) = %+v", got)
	}
	if err := s.RedeemSSOToken(ctx, "r1", tok("a2", meta.SSOAccessToken, 120), tok("r2", meta.SSORefreshToken, 7200)); err != nil {
		t.Fatal(err)
	}
	wantIAM(t, "RedeemSSOToken(again)", s.RedeemSSOToken(ctx, "r1", tok("a3", meta.SSOAccessToken, 120)), meta.ErrIAMNotFound, meta.SSOWhatToken, "", "")
	if _, err := s.GetSSOToken(ctx, "a3"); err == nil {
		t.Error("a refused redemption stored its tokens")
	}
	if err := s.CreateDeviceAuthorization(ctx, &meta.SSODeviceAuthorization{DeviceCodeHash: "d", UserCode: "X", Interval: 1, CreatedAt: at(0), ExpiresAt: at(100)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSSOClient(ctx, &meta.SSOClient{ClientID: "old", SecretHash: "x", Type: "public", CreatedAt: at(0), ExpiresAt: at(500)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteSSOExpiredBefore(ctx, at(1000))
	if err != nil || n != 4 {
		t.Errorf("DeleteSSOExpiredBefore = %d, %v; want 4 (a1, a2, the authorization, the client)", n, err)
	}
	_, err = s.GetSSOClient(ctx, "old")
	wantIAM(t, "GetSSOClient(expired, swept)", err, meta.ErrIAMNotFound, meta.SSOWhatClient, "old", "")
	if _, err := s.GetSSOToken(ctx, "r2"); err != nil {
		t.Errorf("a live token was swept: %v", err)
	}

	// A sign-in ends whole: every token its client holds for its user,
	// and nothing of another client's or another user's.
	other := tok("x1", meta.SSOAccessToken, 3600)
	other.ClientID = "other"
	someone := tok("y1", meta.SSOAccessToken, 3600)
	someone.UserID = "u-2"
	if err := s.CreateSSOTokens(ctx, tok("a4", meta.SSOAccessToken, 3600), other, someone); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSSOSignIn(ctx, "a4"); err != nil || n != 2 {
		t.Errorf("DeleteSSOSignIn(a4) = %d, %v; want 2 (a4, r2)", n, err)
	}
	for _, h := range []string{"a4", "r2"} {
		_, err := s.GetSSOToken(ctx, h)
		wantIAM(t, "GetSSOToken("+h+") after the sign-in ended", err, meta.ErrIAMNotFound, meta.SSOWhatToken, "", "")
	}
	for _, h := range []string{"x1", "y1"} {
		if _, err := s.GetSSOToken(ctx, h); err != nil {
			t.Errorf("GetSSOToken(%s), another sign-in's: %v", h, err)
		}
	}
	_, err = s.DeleteSSOSignIn(ctx, "a4")
	wantIAM(t, "DeleteSSOSignIn(again)", err, meta.ErrIAMNotFound, meta.SSOWhatToken, "", "")
}

// testSSOConcurrentRedeem: of concurrent redemptions of one refresh token
// (two nodes, or a retried request), exactly one wins.
func testSSOConcurrentRedeem(t *testing.T, s meta.Store) {
	ctx := t.Context()
	if err := s.CreateSSOTokens(ctx, &meta.SSOToken{TokenHash: "r", Kind: meta.SSORefreshToken, ClientID: "c", IdentityStoreID: ssoStore, UserID: "u", CreatedAt: at(0), ExpiresAt: at(3600)}); err != nil {
		t.Fatal(err)
	}
	const n = 6
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Go(func() {
			err := s.RedeemSSOToken(ctx, "r", &meta.SSOToken{TokenHash: fmt.Sprintf("new-%d", i), Kind: meta.SSORefreshToken, ClientID: "c",
				IdentityStoreID: ssoStore, UserID: "u", CreatedAt: at(1), ExpiresAt: at(3600)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, meta.ErrIAMNotFound):
				t.Errorf("RedeemSSOToken: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent redemptions won, want 1", wins, n)
	}
}

// testSSOConcurrentCreate: nodes starting at once agree on one instance,
// and of concurrent creations of one user name exactly one wins, the
// others told it exists.
func testSSOConcurrentCreate(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const n = 6
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		arns  = map[string]bool{}
		wins  int
		other []error
	)
	for i := range n {
		wg.Go(func() {
			inst, err := s.EnsureSSOInstance(ctx, &meta.SSOInstance{ARN: fmt.Sprintf("arn:aws:sso:::instance/ssoins-%016d", i),
				IdentityStoreID: fmt.Sprintf("d-%010d", i), Account: acctA, CreatedAt: at(i)})
			uerr := s.CreateSSOUser(ctx, &meta.SSOUser{IdentityStoreID: ssoStore, UserID: fmt.Sprintf("u-%d", i), UserName: "same", CreatedAt: at(i)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				other = append(other, err)
				return
			}
			arns[inst.ARN] = true
			switch {
			case uerr == nil:
				wins++
			case !errors.Is(uerr, meta.ErrIAMExists):
				other = append(other, uerr)
			}
		})
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	if len(arns) != 1 {
		t.Errorf("concurrent EnsureSSOInstance gave %d instances: %v", len(arns), arns)
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent CreateSSOUser of one name won, want 1", wins, n)
	}
}
