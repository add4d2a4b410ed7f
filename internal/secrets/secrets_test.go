package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta/sqlite"
)

var reg = Registry{Account: "111111111111", Region: "eu-west-1"}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T) (*Service, *clock) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
	s, err := New(db, Options{TokenKey: bytes.Repeat([]byte{3}, 32), Now: c.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestSeal(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newSealer(bytes.Repeat([]byte{2}, 32))
	for _, v := range []*Value{{String: "hello"}, {String: ""}, {Binary: []byte{0, 1, 2}}} {
		sealed := s.seal("arn:a", "v1", v)
		if bytes.Contains(sealed, []byte("hello")) {
			t.Errorf("the sealed value holds the plain text")
		}
		got, err := s.open("arn:a", "v1", sealed)
		if err != nil || got.String != v.String || !bytes.Equal(got.Binary, v.Binary) || got.IsBinary() != v.IsBinary() {
			t.Errorf("open(seal(%+v)) = %+v, %v", v, got, err)
		}
		// Bound to its secret and version, and to the key.
		for what, open := range map[string]func() (*Value, error){
			"another secret":  func() (*Value, error) { return s.open("arn:b", "v1", sealed) },
			"another version": func() (*Value, error) { return s.open("arn:a", "v2", sealed) },
			"another key":     func() (*Value, error) { return other.open("arn:a", "v1", sealed) },
			"a torn value":    func() (*Value, error) { return s.open("arn:a", "v1", sealed[:len(sealed)-1]) },
		} {
			if _, err := open(); err == nil {
				t.Errorf("%+v opened under %s", v, what)
			}
		}
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("a 5-byte token key was taken")
	}
}

func TestSecretValue(t *testing.T) {
	s, c := newService(t)
	ctx := t.Context()
	w, err := s.Create(ctx, reg, CreateInput{Name: "ecr-pullthroughcache/hub", Value: &Value{String: `{"username":"u"}`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ecr-pullthroughcache/hub", w.ARN, ARN(reg, "ecr-pullthroughcache/hub")} {
		v, err := s.SecretValue(ctx, reg.Account, reg.Region, id)
		if err != nil || v.String != `{"username":"u"}` || v.VersionID != w.VersionID || v.IsBinary() {
			t.Errorf("SecretValue(%s) = %+v, %v", id, v, err)
		}
	}
	for what, call := range map[string]func() error{
		"a missing secret": func() error { _, err := s.SecretValue(ctx, reg.Account, reg.Region, "nope"); return err },
		"another account": func() error {
			_, err := s.SecretValue(ctx, "222222222222", reg.Region, "ecr-pullthroughcache/hub")
			return err
		},
		"another region": func() error { _, err := s.SecretValue(ctx, reg.Account, "us-east-1", w.ARN); return err },
	} {
		if err := call(); !errors.Is(err, ErrNotFound) {
			t.Errorf("SecretValue of %s: %v, want ErrNotFound", what, err)
		}
	}
	if _, err := s.Create(ctx, reg, CreateInput{Name: "empty"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SecretValue(ctx, reg.Account, reg.Region, "empty"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SecretValue of a secret with no value: %v, want ErrNotFound", err)
	}

	// Scheduled for deletion: ErrNotFound here (GetValue says
	// InvalidRequest); once the window ends the secret is gone and its
	// name free.
	if _, err := s.Delete(ctx, reg, "ecr-pullthroughcache/hub", DeleteInput{RecoveryWindowInDays: 7, WindowGiven: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SecretValue(ctx, reg.Account, reg.Region, "ecr-pullthroughcache/hub"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SecretValue of a scheduled secret: %v, want ErrNotFound", err)
	}
	if _, _, err := s.GetValue(ctx, reg, "ecr-pullthroughcache/hub", "", ""); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("GetValue of a scheduled secret: %v, want ErrInvalidRequest", err)
	}
	c.t = c.t.Add(7*24*time.Hour + time.Second)
	if _, err := s.Describe(ctx, reg, w.ARN); !errors.Is(err, ErrNotFound) {
		t.Errorf("Describe after the recovery window: %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, reg, CreateInput{Name: "ecr-pullthroughcache/hub", Value: &Value{String: "new"}}); err != nil {
		t.Errorf("Create after the recovery window: %v", err)
	}
}

func TestList(t *testing.T) {
	s, c := newService(t)
	ctx := t.Context()
	for i, n := range []string{"c-prod", "a-dev", "b-prod", "d-gone"} {
		c.t = c.t.Add(time.Minute)
		tags := []Tag{{Key: "env", Value: strings.SplitN(n, "-", 2)[1]}}
		if _, err := s.Create(ctx, reg, CreateInput{Name: n, Description: fmt.Sprintf("Secret number %d", i), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(ctx, reg, "d-gone", DeleteInput{}); err != nil {
		t.Fatal(err)
	}
	names := func(q ListQuery) []string {
		t.Helper()
		var out []string
		for {
			page, next, err := s.List(ctx, reg, q)
			if err != nil {
				t.Fatalf("List(%+v): %v", q, err)
			}
			for _, p := range page {
				out = append(out, p.Name)
			}
			if next == "" {
				return out
			}
			q.NextToken = next
		}
	}
	for _, tc := range []struct {
		what string
		q    ListQuery
		want []string
	}{
		{"by creation", ListQuery{}, []string{"c-prod", "a-dev", "b-prod"}},
		{"pages of one", ListQuery{MaxResults: 1}, []string{"c-prod", "a-dev", "b-prod"}},
		{"by name, desc, pages of two", ListQuery{SortBy: "name", SortOrder: "desc", MaxResults: 2}, []string{"c-prod", "b-prod", "a-dev"}},
		{"with those scheduled", ListQuery{IncludePlannedDeletion: true}, []string{"c-prod", "a-dev", "b-prod", "d-gone"}},
		{"name prefix", ListQuery{Filters: []Filter{{Key: "name", Values: []string{"b-", "c-"}}}}, []string{"c-prod", "b-prod"}},
		{"name is case-sensitive", ListQuery{Filters: []Filter{{Key: "name", Values: []string{"B-"}}}}, nil},
		{"negated", ListQuery{Filters: []Filter{{Key: "name", Values: []string{"!c-"}}}}, []string{"a-dev", "b-prod"}},
		{"description, any case", ListQuery{Filters: []Filter{{Key: "description", Values: []string{"secret NUMBER 1"}}}}, []string{"a-dev"}},
		{"tag value and key", ListQuery{Filters: []Filter{{Key: "tag-value", Values: []string{"prod"}}, {Key: "tag-key", Values: []string{"env"}}}}, []string{"c-prod", "b-prod"}},
		{"all, words", ListQuery{Filters: []Filter{{Key: "all", Values: []string{"PROD number"}}}}, []string{"c-prod", "b-prod"}},
		{"region", ListQuery{Filters: []Filter{{Key: "primary-region", Values: []string{"us-"}}}}, nil},
	} {
		if got := names(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, got, tc.want)
		}
	}
	if _, _, err := s.List(ctx, reg, ListQuery{NextToken: "bm9wZQ"}); !errors.Is(err, ErrInvalidNextToken) {
		t.Errorf("List with a bad token: %v", err)
	}
}

func TestVersionsAndIdempotency(t *testing.T) {
	s, c := newService(t)
	ctx := t.Context()
	const tok = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	in := CreateInput{Name: "hub", ClientRequestToken: tok, Value: &Value{String: "one"}}
	first, err := s.Create(ctx, reg, in)
	if err != nil {
		t.Fatal(err)
	}
	// A CreateSecret retried with its token answers as the first did.
	again, err := s.Create(ctx, reg, in)
	if err != nil || again.ARN != first.ARN || again.VersionID != tok {
		t.Errorf("Create retried = %+v, %v", again, err)
	}
	in.Value = &Value{String: "other"}
	if _, err := s.Create(ctx, reg, in); !errors.Is(err, ErrExists) {
		t.Errorf("Create of a taken name with another value: %v", err)
	}
	for i := range 3 {
		c.t = c.t.Add(time.Second)
		if _, err := s.PutValue(ctx, reg, "hub", "", &Value{String: fmt.Sprint("v", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, vs, _, err := s.Versions(ctx, reg, "hub", VersionsQuery{})
	if err != nil || len(vs) != 2 {
		t.Fatalf("Versions = %v, %v; want the two labelled", vs, err)
	}
	_, all, _, _ := s.Versions(ctx, reg, "hub", VersionsQuery{IncludeDeprecated: true})
	if len(all) != 4 || all[3].ID != tok {
		t.Errorf("Versions with deprecated = %v", all)
	}
	var paged []Version
	q := VersionsQuery{IncludeDeprecated: true, MaxResults: 3}
	for {
		_, page, next, err := s.Versions(ctx, reg, "hub", q)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if next == "" {
			break
		}
		q.NextToken = next
	}
	if !slices.EqualFunc(paged, all, func(a, b Version) bool { return a.ID == b.ID }) {
		t.Errorf("Versions in pages %v, want %v", paged, all)
	}
	_, v, err := s.GetValue(ctx, reg, "hub", tok, "AWSCURRENT")
	if !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("GetValue of a version by a label it lacks = %+v, %v", v, err)
	}
}

func TestRandomPassword(t *testing.T) {
	for _, tc := range []struct {
		spec PasswordSpec
		n    int
		bad  string
	}{
		{PasswordSpec{RequireEachIncludedType: true}, 32, " "},
		{PasswordSpec{Length: 12, ExcludePunctuation: true, ExcludeCharacters: "abc"}, 12, "abc!#~ "},
		{PasswordSpec{Length: 5, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true}, 5, "aZ!"},
	} {
		pw, err := RandomPassword(tc.spec)
		if err != nil || len(pw) != tc.n || strings.ContainsAny(pw, tc.bad) {
			t.Errorf("RandomPassword(%+v) = %q, %v", tc.spec, pw, err)
		}
	}
	if _, err := RandomPassword(PasswordSpec{ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true}); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("RandomPassword with every class excluded: %v", err)
	}
}
