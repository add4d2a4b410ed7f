package metatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// The TemplateStore part of the suite. Besides what meta documents, it pins
// down: keys sort bytewise; Settings compare by value; ModifyTemplate
// changes only Settings and UpdatedAt, whatever fn does to the rest; the
// existing key is reported before the limit.

func checkTemplate(t *testing.T, got, want *meta.RepositoryTemplate) {
	t.Helper()
	if got.Registry != want.Registry || got.Key != want.Key || !sameJSON(got.Settings, want.Settings) {
		t.Errorf("template = %+v (settings %s), want %+v (settings %s)", got, got.Settings, want, want.Settings)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func newTemplate(reg meta.RegistryKey, key string, n int) *meta.RepositoryTemplate {
	return &meta.RepositoryTemplate{
		Registry: reg, Key: key, CreatedAt: at(n), UpdatedAt: at(n),
		Settings: json.RawMessage(fmt.Sprintf(`{"description": %q, "appliedFor": ["CREATE_ON_PUSH"]}`, key)),
	}
}

func createTemplate(t *testing.T, s meta.Store, tm *meta.RepositoryTemplate) {
	t.Helper()
	if err := s.CreateTemplate(t.Context(), tm, 100); err != nil {
		t.Fatalf("CreateTemplate(%s): %v", tm.Key, err)
	}
}

func testTemplateCreateGet(t *testing.T, s meta.Store) {
	ctx := t.Context()
	_, err := s.GetTemplate(ctx, reg1, "team")
	wantErr(t, "GetTemplate before any", err, meta.ErrNotFound)

	tm := newTemplate(reg1, "team", 1)
	createTemplate(t, s, tm)
	got, err := s.GetTemplate(ctx, reg1, "team")
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	checkTemplate(t, got, tm)

	// A template without settings or times reads back without them.
	bare := &meta.RepositoryTemplate{Registry: reg1, Key: "ROOT"}
	createTemplate(t, s, bare)
	if got, err = s.GetTemplate(ctx, reg1, "ROOT"); err != nil {
		t.Fatalf("GetTemplate(ROOT): %v", err)
	}
	checkTemplate(t, got, bare)

	again := newTemplate(reg1, "team", 5)
	wantErr(t, "CreateTemplate twice", s.CreateTemplate(ctx, again, 100), meta.ErrTemplateExists)
	if got, err = s.GetTemplate(ctx, reg1, "team"); err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	checkTemplate(t, got, tm)

	// Keys are per registry, and case-sensitive.
	for _, tc := range []struct {
		reg meta.RegistryKey
		key string
	}{{reg2, "team"}, {reg3, "team"}, {reg1, "TEAM"}, {reg1, "team/"}} {
		_, err := s.GetTemplate(ctx, tc.reg, tc.key)
		wantErr(t, fmt.Sprintf("GetTemplate(%v, %s)", tc.reg, tc.key), err, meta.ErrNotFound)
	}
	other := newTemplate(reg2, "team", 2)
	createTemplate(t, s, other)
	if got, err = s.GetTemplate(ctx, reg2, "team"); err != nil {
		t.Fatalf("GetTemplate(reg2): %v", err)
	}
	checkTemplate(t, got, other)
}

func testTemplateLimit(t *testing.T, s meta.Store) {
	ctx := t.Context()
	for i, key := range []string{"a", "b", "c"} {
		if err := s.CreateTemplate(ctx, newTemplate(reg1, key, i), 3); err != nil {
			t.Fatalf("CreateTemplate(%s) under the limit: %v", key, err)
		}
	}
	wantErr(t, "CreateTemplate over the limit", s.CreateTemplate(ctx, newTemplate(reg1, "d", 3), 3), meta.ErrTemplateLimit)
	wantErr(t, "CreateTemplate of an existing key at the limit", s.CreateTemplate(ctx, newTemplate(reg1, "a", 3), 3), meta.ErrTemplateExists)
	if _, err := s.GetTemplate(ctx, reg1, "d"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("the refused template was stored: %v", err)
	}
	// The limit is per registry.
	if err := s.CreateTemplate(ctx, newTemplate(reg2, "d", 3), 3); err != nil {
		t.Fatalf("CreateTemplate in another registry: %v", err)
	}
	// Deleting one makes room.
	if _, err := s.DeleteTemplate(ctx, reg1, "b"); err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	if err := s.CreateTemplate(ctx, newTemplate(reg1, "d", 4), 3); err != nil {
		t.Fatalf("CreateTemplate after a deletion: %v", err)
	}
}

func testTemplateList(t *testing.T, s meta.Store) {
	ctx := t.Context()
	// Bytewise order: upper case and '/' sort before lower case and '-'.
	keys := []string{"team/app", "ROOT", "team", "team-b", "a", "Z"}
	for i, k := range keys {
		createTemplate(t, s, newTemplate(reg1, k, i))
	}
	createTemplate(t, s, newTemplate(reg2, "other", 0))
	sorted := slices.Clone(keys)
	slices.Sort(sorted)

	list := func(after string, limit int) []string {
		t.Helper()
		ts, err := s.ListTemplates(ctx, reg1, after, limit)
		if err != nil {
			t.Fatalf("ListTemplates(%q, %d): %v", after, limit, err)
		}
		var got []string
		for _, tm := range ts {
			if tm.Registry != reg1 {
				t.Errorf("ListTemplates(reg1) returned %+v", tm)
			}
			got = append(got, tm.Key)
		}
		return got
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, sorted},
		{"", -1, sorted},
		{"", 2, sorted[:2]},
		{sorted[1], 2, sorted[2:4]},
		{sorted[len(sorted)-1], 10, nil},
		{"team", 0, []string{"team-b", "team/app"}},
	} {
		if got := list(tc.after, tc.limit); !sameStrings(got, tc.want) {
			t.Errorf("ListTemplates(%q, %d) = %q, want %q", tc.after, tc.limit, got, tc.want)
		}
	}
	ts, err := s.ListTemplates(ctx, reg1, "", 1)
	if err != nil || len(ts) != 1 {
		t.Fatalf("ListTemplates: %v, %v", ts, err)
	}
	checkTemplate(t, ts[0], newTemplate(reg1, sorted[0], slices.Index(keys, sorted[0])))
	if ts, err := s.ListTemplates(ctx, meta.RegistryKey{Account: "333333333333", Region: "eu-west-1"}, "", 0); err != nil || len(ts) != 0 {
		t.Errorf("ListTemplates of an empty registry = %v, %v; want none", ts, err)
	}
}

func testTemplateModify(t *testing.T, s meta.Store) {
	ctx := t.Context()
	tm := newTemplate(reg1, "team", 1)
	createTemplate(t, s, tm)
	createTemplate(t, s, newTemplate(reg1, "other", 1))

	got, err := s.ModifyTemplate(ctx, reg1, "team", func(cur *meta.RepositoryTemplate) error {
		checkTemplate(t, cur, tm)
		cur.Settings = json.RawMessage(`{"description": "changed"}`)
		cur.UpdatedAt = at(7)
		// Only the configuration changes.
		cur.Key, cur.Registry, cur.CreatedAt = "other", reg2, at(99)
		return nil
	})
	if err != nil {
		t.Fatalf("ModifyTemplate: %v", err)
	}
	want := *tm
	want.Settings, want.UpdatedAt = json.RawMessage(`{"description": "changed"}`), at(7)
	checkTemplate(t, got, &want)
	stored, err := s.GetTemplate(ctx, reg1, "team")
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	checkTemplate(t, stored, &want)
	if stored, err = s.GetTemplate(ctx, reg1, "other"); err != nil {
		t.Fatalf("GetTemplate(other): %v", err)
	}
	checkTemplate(t, stored, newTemplate(reg1, "other", 1))

	refused := errors.New("refused by the caller")
	_, err = s.ModifyTemplate(ctx, reg1, "team", func(cur *meta.RepositoryTemplate) error {
		cur.Settings = nil
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("ModifyTemplate with a failing fn: %v, want %v", err, refused)
	}
	if stored, err = s.GetTemplate(ctx, reg1, "team"); err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	checkTemplate(t, stored, &want)

	_, err = s.ModifyTemplate(ctx, reg2, "team", func(*meta.RepositoryTemplate) error {
		t.Error("fn called for a missing template")
		return nil
	})
	wantErr(t, "ModifyTemplate(missing)", err, meta.ErrNotFound)
}

func testTemplateDelete(t *testing.T, s meta.Store) {
	ctx := t.Context()
	tm := newTemplate(reg1, "team", 1)
	createTemplate(t, s, tm)
	createTemplate(t, s, newTemplate(reg2, "team", 1))
	got, err := s.DeleteTemplate(ctx, reg1, "team")
	if err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	checkTemplate(t, got, tm)
	_, err = s.GetTemplate(ctx, reg1, "team")
	wantErr(t, "GetTemplate(deleted)", err, meta.ErrNotFound)
	_, err = s.DeleteTemplate(ctx, reg1, "team")
	wantErr(t, "DeleteTemplate(deleted)", err, meta.ErrNotFound)
	if _, err := s.GetTemplate(ctx, reg2, "team"); err != nil {
		t.Errorf("another registry's template went too: %v", err)
	}
	// The key can be used again.
	createTemplate(t, s, newTemplate(reg1, "team", 3))
}

func testCreateRepositoryWithLifecycle(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const policy = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`
	r := &meta.Repository{Registry: reg1, Name: "team/app", CreatedAt: at(2), TagMutability: "IMMUTABLE",
		Settings: json.RawMessage(`{"tags":[{"key":"team","value":"a"}]}`)}
	if err := s.CreateRepositoryWithLifecycle(ctx, r, policy); err != nil {
		t.Fatalf("CreateRepositoryWithLifecycle: %v", err)
	}
	if r.ID == 0 {
		t.Fatal("CreateRepositoryWithLifecycle left the ID unset")
	}
	got, err := s.GetRepository(ctx, reg1, "team/app")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, r)
	p, err := s.GetLifecyclePolicy(ctx, r.ID)
	if err != nil {
		t.Fatalf("GetLifecyclePolicy: %v", err)
	}
	if p.Text != policy || p.Repository != "team/app" || p.Registry != reg1 {
		t.Errorf("lifecycle policy = %+v, want %s on team/app", p, policy)
	}
	checkTime(t, "lifecycle UpdatedAt", p.UpdatedAt, at(2))

	// Without a policy the repository has none.
	bare := &meta.Repository{Registry: reg1, Name: "team/bare", CreatedAt: at(3), TagMutability: "MUTABLE"}
	if err := s.CreateRepositoryWithLifecycle(ctx, bare, ""); err != nil {
		t.Fatalf("CreateRepositoryWithLifecycle(no policy): %v", err)
	}
	_, err = s.GetLifecyclePolicy(ctx, bare.ID)
	wantErr(t, "GetLifecyclePolicy(no policy)", err, meta.ErrNotFound)

	// An existing name is refused and the repository, policy and all, is kept.
	again := &meta.Repository{Registry: reg1, Name: "team/app", CreatedAt: at(9), TagMutability: "MUTABLE"}
	wantErr(t, "CreateRepositoryWithLifecycle twice", s.CreateRepositoryWithLifecycle(ctx, again, `{"rules":[]}`), meta.ErrRepositoryExists)
	wantErr(t, "CreateRepository after it", s.CreateRepository(ctx, &meta.Repository{Registry: reg1, Name: "team/bare"}), meta.ErrRepositoryExists)
	if got, err = s.GetRepository(ctx, reg1, "team/app"); err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, r)
	if p, err = s.GetLifecyclePolicy(ctx, r.ID); err != nil || p.Text != policy {
		t.Errorf("lifecycle policy after a refused creation = %+v, %v; want %s", p, err, policy)
	}
	// The policy goes with its repository.
	wantErr(t, "DeleteRepository", s.DeleteRepository(ctx, r.ID, false), nil)
	_, err = s.GetLifecyclePolicy(ctx, r.ID)
	wantErr(t, "GetLifecyclePolicy(deleted repository)", err, meta.ErrNotFound)
}

// testConcurrentTemplates races creations against the limit and against
// each other, and read-modify-writes against each other.
func testConcurrentTemplates(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const n, limit = 16, 5
	var created atomic.Int32
	parallel(n, func(i int) {
		err := s.CreateTemplate(ctx, newTemplate(reg1, fmt.Sprintf("t%02d", i), i), limit)
		switch {
		case err == nil:
			created.Add(1)
		case !errors.Is(err, meta.ErrTemplateLimit):
			t.Errorf("CreateTemplate: %v", err)
		}
	})
	if c := created.Load(); c != limit {
		t.Errorf("%d of %d concurrent creations under a limit of %d succeeded", c, n, limit)
	}
	if ts, err := s.ListTemplates(ctx, reg1, "", 0); err != nil || len(ts) != limit {
		t.Errorf("ListTemplates after the race: %d templates, %v; want %d", len(ts), err, limit)
	}

	created.Store(0)
	parallel(n, func(i int) {
		err := s.CreateTemplate(ctx, newTemplate(reg2, "same", i), 100)
		switch {
		case err == nil:
			created.Add(1)
		case !errors.Is(err, meta.ErrTemplateExists):
			t.Errorf("CreateTemplate(same): %v", err)
		}
	})
	if c := created.Load(); c != 1 {
		t.Errorf("%d of %d concurrent creations of one key succeeded, want 1", c, n)
	}

	parallel(n, func(i int) {
		_, err := s.ModifyTemplate(ctx, reg2, "same", func(cur *meta.RepositoryTemplate) error {
			var m map[string]any
			if err := json.Unmarshal(cur.Settings, &m); err != nil {
				return err
			}
			m[fmt.Sprintf("k%02d", i)] = true
			b, err := json.Marshal(m)
			cur.Settings = b
			return err
		})
		if err != nil {
			t.Errorf("ModifyTemplate: %v", err)
		}
	})
	got, err := s.GetTemplate(ctx, reg2, "same")
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(got.Settings, &m); err != nil {
		t.Fatalf("settings %s: %v", got.Settings, err)
	}
	for i := range n {
		if m[fmt.Sprintf("k%02d", i)] != true {
			t.Errorf("after %d concurrent modifications the settings are %s: updates were lost", n, got.Settings)
			break
		}
	}
}

// testConcurrentCreateFromTemplate: of creators of one repository, one
// creates it with its policy, the others find it there.
func testConcurrentCreateFromTemplate(t *testing.T, s meta.Store) {
	const n = 16
	var created atomic.Int32
	parallel(n, func(i int) {
		r := &meta.Repository{Registry: reg1, Name: "contended/tmpl", CreatedAt: at(i), TagMutability: fmt.Sprint(i)}
		err := s.CreateRepositoryWithLifecycle(t.Context(), r, fmt.Sprintf(`{"rules":[],"by":%d}`, i))
		switch {
		case err == nil:
			created.Add(1)
		case !errors.Is(err, meta.ErrRepositoryExists):
			t.Errorf("CreateRepositoryWithLifecycle: %v", err)
		}
	})
	if c := created.Load(); c != 1 {
		t.Fatalf("%d of %d concurrent creations succeeded, want 1", c, n)
	}
	r, err := s.GetRepository(t.Context(), reg1, "contended/tmpl")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	p, err := s.GetLifecyclePolicy(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("GetLifecyclePolicy: %v", err)
	}
	// The policy is the winner's.
	if want := fmt.Sprintf(`{"rules":[],"by":%s}`, r.TagMutability); p.Text != want {
		t.Errorf("policy %s on the repository created by %s", p.Text, r.TagMutability)
	}
}
