package metatest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

func ptcRule(reg meta.RegistryKey, prefix string, n int) *meta.PullThroughRule {
	return &meta.PullThroughRule{Registry: reg, Prefix: prefix, UpstreamURL: "https://registry-1.docker.io", Upstream: "docker-hub",
		UpstreamPrefix: "ROOT", CredentialARN: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:ecr-pullthroughcache/hub",
		CustomRoleARN: "", CreatedAt: at(n)}
}

func checkRule(t *testing.T, what string, got, want *meta.PullThroughRule) {
	t.Helper()
	g, w := *got, *want
	sameTimes := g.CreatedAt.Equal(w.CreatedAt) && g.UpdatedAt.Equal(w.UpdatedAt)
	g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt
	if g != w || !sameTimes {
		t.Errorf("%s: got %+v, want %+v", what, *got, *want)
	}
}

// testPullThroughRules covers a registry's rules: create, get, list in
// prefix order, update, delete, the limit and registries kept apart.
func testPullThroughRules(t *testing.T, s meta.Store) {
	ctx := t.Context()
	hub, quay := ptcRule(reg1, "hub", 1), ptcRule(reg1, "ROOT", 2)
	quay.UpstreamURL, quay.Upstream, quay.CredentialARN = "https://quay.io", "quay", ""
	for _, r := range []*meta.PullThroughRule{hub, quay, ptcRule(reg2, "hub", 3)} {
		if err := s.CreatePullThroughRule(ctx, r, 10); err != nil {
			t.Fatalf("CreatePullThroughRule(%s): %v", r.Prefix, err)
		}
	}
	if err := s.CreatePullThroughRule(ctx, ptcRule(reg1, "hub", 4), 10); !errors.Is(err, meta.ErrPullThroughRuleExists) {
		t.Errorf("second rule of prefix hub: %v, want ErrPullThroughRuleExists", err)
	}
	if err := s.CreatePullThroughRule(ctx, ptcRule(reg1, "third", 4), 2); !errors.Is(err, meta.ErrPullThroughRuleLimit) {
		t.Errorf("third rule with a limit of 2: %v, want ErrPullThroughRuleLimit", err)
	}
	// The limit counts the registry's own rules only.
	if err := s.CreatePullThroughRule(ctx, ptcRule(reg3, "a", 4), 1); err != nil {
		t.Errorf("first rule of another region: %v", err)
	}
	got, err := s.GetPullThroughRule(ctx, reg1, "hub")
	if err != nil {
		t.Fatalf("GetPullThroughRule: %v", err)
	}
	checkRule(t, "get hub", got, hub)
	if _, err := s.GetPullThroughRule(ctx, reg1, "nope"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("GetPullThroughRule(nope): %v, want ErrNotFound", err)
	}
	list, err := s.ListPullThroughRules(ctx, reg1)
	if err != nil {
		t.Fatalf("ListPullThroughRules: %v", err)
	}
	if len(list) != 2 || list[0].Prefix != "ROOT" || list[1].Prefix != "hub" {
		t.Fatalf("ListPullThroughRules: %v, want ROOT then hub (bytewise)", list)
	}
	checkRule(t, "listed ROOT", list[0], quay)

	upd := *hub
	upd.CredentialARN, upd.CustomRoleARN, upd.UpdatedAt = "", "arn:aws:iam::111111111111:role/ptc", at(9)
	upd.UpstreamURL = "https://ignored.example" // only the credential, role and time change
	if err := s.UpdatePullThroughRule(ctx, &upd); err != nil {
		t.Fatalf("UpdatePullThroughRule: %v", err)
	}
	want := *hub
	want.CredentialARN, want.CustomRoleARN, want.UpdatedAt = "", "arn:aws:iam::111111111111:role/ptc", at(9)
	got, _ = s.GetPullThroughRule(ctx, reg1, "hub")
	checkRule(t, "updated hub", got, &want)
	if err := s.UpdatePullThroughRule(ctx, ptcRule(reg1, "nope", 1)); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("UpdatePullThroughRule(nope): %v, want ErrNotFound", err)
	}

	del, err := s.DeletePullThroughRule(ctx, reg1, "hub")
	if err != nil {
		t.Fatalf("DeletePullThroughRule: %v", err)
	}
	checkRule(t, "deleted hub", del, &want)
	if _, err := s.DeletePullThroughRule(ctx, reg1, "hub"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("second DeletePullThroughRule: %v, want ErrNotFound", err)
	}
	if got, err := s.GetPullThroughRule(ctx, reg2, "hub"); err != nil || got.Registry != reg2 {
		t.Errorf("reg2's rule after reg1's was deleted: %v, %v", got, err)
	}
}

// testPullThroughChecks covers the tag checks: absent, recorded, moved,
// and gone with their repository.
func testPullThroughChecks(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "hub/library/alpine")
	if _, err := s.PullThroughChecked(ctx, r.ID, "3"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("never checked: %v, want ErrNotFound", err)
	}
	for _, n := range []int{5, 7} {
		if err := s.MarkPullThroughChecked(ctx, r.ID, "3", at(n)); err != nil {
			t.Fatalf("MarkPullThroughChecked: %v", err)
		}
		got, err := s.PullThroughChecked(ctx, r.ID, "3")
		if err != nil || !got.Equal(at(n)) {
			t.Errorf("PullThroughChecked: %v, %v; want %v", got, err, at(n))
		}
	}
	if err := s.DeleteRepository(ctx, r.ID, true); err != nil {
		t.Fatalf("DeleteRepository: %v", err)
	}
	if _, err := s.PullThroughChecked(ctx, r.ID, "3"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("checked after the repository was deleted: %v, want ErrNotFound", err)
	}
	if err := s.MarkPullThroughChecked(ctx, r.ID, "3", at(8)); !errors.Is(err, meta.ErrRepositoryUnknown) {
		t.Errorf("MarkPullThroughChecked on a deleted repository: %v, want ErrRepositoryUnknown", err)
	}
}

// testConcurrentPullThroughRules creates rules from many workers at once
// against a limit: exactly the limit's worth of them are taken.
func testConcurrentPullThroughRules(t *testing.T, s meta.Store) {
	const workers, limit = 12, 5
	var created atomic.Int32
	parallel(workers, func(w int) {
		err := s.CreatePullThroughRule(context.Background(), ptcRule(reg1, fmt.Sprint("p", w), w), limit)
		switch {
		case err == nil:
			created.Add(1)
		case !errors.Is(err, meta.ErrPullThroughRuleLimit):
			t.Errorf("worker %d: %v", w, err)
		}
	})
	list, err := s.ListPullThroughRules(t.Context(), reg1)
	if err != nil {
		t.Fatal(err)
	}
	if created.Load() != limit || len(list) != limit {
		t.Errorf("%d created, %d stored; want %d", created.Load(), len(list), limit)
	}
}
