package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/server"
	"github.com/berth-registry/berth/internal/sso"
)

// berth admin sso set-password and approve work on the store of a data
// directory, as beside a running server.
func TestAdminSSO(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	store, err := server.OpenMeta(ctx, "", data)
	if err != nil {
		t.Fatal(err)
	}
	svc := sso.New(store, nil, sso.Options{Account: "000000000000"})
	inst, err := svc.Instance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, sso.NewUser{IdentityStoreID: inst.IdentityStoreID, UserName: "alice"}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string // on stdout, or in the error
		fails bool
	}{
		{"help", []string{"-h"}, "", "Usage", false},
		{"password from stdin", []string{"set-password", "--data", data, "--user", "alice", "--password-stdin"}, "correct horse\n", "password set for alice", false},
		{"too short", []string{"set-password", "--data", data, "--user", "alice", "--password", "short"}, "", "at least 8 characters", true},
		{"no such user", []string{"set-password", "--data", data, "--user", "bob", "--password", "long enough"}, "", "User bob does not exist", true},
		{"no password", []string{"set-password", "--data", data, "--user", "alice"}, "", "--password-stdin", true},
		{"no user", []string{"approve", "--data", data, "--user-code", "ABCD-EFGH"}, "", "--user is required", true},
		{"unknown code", []string{"approve", "--data", data, "--user", "alice", "--user-code", "ABCD-EFGH"}, "", "is not valid or has expired", true},
		{"unknown command", []string{"reset"}, "", "unknown admin sso command", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := adminSSO(tc.args, &stdout, &stderr, noEnv, strings.NewReader(tc.stdin))
			if (err != nil) != tc.fails {
				t.Fatalf("error %v, want failure %v", err, tc.fails)
			}
			got := stdout.String()
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want it to contain %q", got, tc.want)
			}
		})
	}

	store, err = server.OpenMeta(ctx, "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := sso.New(store, nil, sso.Options{}).Authenticate(ctx, "alice", "correct horse"); err != nil {
		t.Errorf("the password set from stdin does not sign in: %v", err)
	}
}
