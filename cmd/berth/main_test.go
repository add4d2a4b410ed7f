package main

import (
	"bytes"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

// Asking for help is not a failure, and the help goes to stdout.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"serve", "--help"}, {"serve", "-h"},
		{"admin", "--help"}, {"admin", "create-account", "--help"}, {"admin", "gc", "-h"}, {"admin", "migrate", "-h"}, {"admin", "sso", "-h"}, {"admin", "sso", "set-password", "-h"},
		{"vulndb", "--help"}, {"vulndb", "status", "-h"},
		{"login", "--help"}, {"doctor", "-h"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr, noEnv); code != 0 {
			t.Errorf("berth %s: exit %d, want 0; stderr:\n%s", strings.Join(args, " "), code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "Usage") {
			t.Errorf("berth %s: no usage on stdout:\n%s", strings.Join(args, " "), stdout.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("berth %s: wrote to stderr:\n%s", strings.Join(args, " "), stderr.String())
		}
	}
	var stdout bytes.Buffer
	run([]string{"serve", "--help"}, &stdout, &bytes.Buffer{}, noEnv)
	if !strings.Contains(stdout.String(), "-listen") {
		t.Errorf("berth serve --help does not list the flags:\n%s", stdout.String())
	}
}

// A bad flag fails, and its error is printed once, with where to look.
func TestBadFlagErrorPrintedOnce(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--no-such-flag"},
		{"admin", "list-accounts", "--no-such-flag"},
		{"admin", "gc", "--no-such-flag"},
		{"admin", "migrate", "--no-such-flag"},
		{"vulndb", "status", "--no-such-flag"},
		{"login", "--no-such-flag"},
		{"doctor", "--no-such-flag"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr, noEnv); code == 0 {
			t.Errorf("berth %s: exit 0, want a failure", strings.Join(args, " "))
		}
		if n := strings.Count(stderr.String(), "no-such-flag"); n != 1 {
			t.Errorf("berth %s: the error is printed %d times, want once:\n%s", strings.Join(args, " "), n, stderr.String())
		}
		if !strings.Contains(stderr.String(), "-h lists the flags") {
			t.Errorf("berth %s: the error does not say where the flags are listed:\n%s", strings.Join(args, " "), stderr.String())
		}
	}
}

// The admin commands that work on the embedded database refuse a data
// directory that does not exist rather than make one nobody serves.
func TestAdminRefusesMissingDataDir(t *testing.T) {
	missing := t.TempDir() + "/no-such-data"
	for _, args := range [][]string{
		{"admin", "list-accounts", "--data", missing},
		{"admin", "public-alias", "list", "--data", missing},
		{"admin", "sso", "set-password", "--user", "alice", "--password", "pw-123456", "--data", missing},
		{"vulndb", "status", "--data", missing},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr, noEnv); code == 0 {
			t.Errorf("berth %s: exit 0, want a refusal", strings.Join(args, " "))
		}
		if want := "(run berth serve --data " + missing + " once first)"; !strings.Contains(stderr.String(), want) {
			t.Errorf("berth %s: stderr does not say %q:\n%s", strings.Join(args, " "), want, stderr.String())
		}
	}
}
