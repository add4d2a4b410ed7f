package metatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// testSettings covers ModifyRepository and the registry-wide settings.
func testSettings(t *testing.T, s meta.Store) {
	t.Run("ModifyRepository", func(t *testing.T) { testModifyRepository(t, s) })
	t.Run("ModifyRepositoryConcurrent", func(t *testing.T) { testModifyRepositoryConcurrent(t, s) })
	t.Run("RegistrySettings", func(t *testing.T) { testRegistrySettings(t, s) })
}

func testModifyRepository(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "modify/app")
	other := newRepo(t, s, reg1, "modify/other")

	err := s.ModifyRepository(t.Context(), r.ID, func(got *meta.Repository) error {
		checkRepo(t, got, r)
		got.TagMutability = "IMMUTABLE_WITH_EXCLUSION"
		got.Settings = json.RawMessage(`{"filters":["dev-*"]}`)
		// Only the configuration changes.
		got.Name, got.CreatedAt, got.ID = "renamed", at(99), other.ID
		return nil
	})
	if err != nil {
		t.Fatalf("ModifyRepository: %v", err)
	}
	want := *r
	want.TagMutability, want.Settings = "IMMUTABLE_WITH_EXCLUSION", json.RawMessage(`{"filters":["dev-*"]}`)
	got, err := s.GetRepository(t.Context(), reg1, "modify/app")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, &want)
	got, err = s.GetRepository(t.Context(), reg1, "modify/other")
	if err != nil {
		t.Fatalf("GetRepository(other): %v", err)
	}
	checkRepo(t, got, other)

	// An error from fn leaves the repository as it was and comes back.
	refused := errors.New("refused by the caller")
	err = s.ModifyRepository(t.Context(), r.ID, func(got *meta.Repository) error {
		got.TagMutability, got.Settings = "MUTABLE", nil
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("ModifyRepository with a failing fn: error %v, want %v", err, refused)
	}
	got, err = s.GetRepository(t.Context(), reg1, "modify/app")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, &want)

	// Clearing the settings reads back as no settings.
	err = s.ModifyRepository(t.Context(), r.ID, func(got *meta.Repository) error {
		got.TagMutability, got.Settings = "MUTABLE", nil
		return nil
	})
	wantErr(t, "ModifyRepository(clear)", err, nil)
	want.TagMutability, want.Settings = "MUTABLE", nil
	got, err = s.GetRepository(t.Context(), reg1, "modify/app")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, &want)

	called := false
	err = s.ModifyRepository(t.Context(), r.ID+other.ID+1000, func(*meta.Repository) error {
		called = true
		return nil
	})
	wantErr(t, "ModifyRepository(missing)", err, meta.ErrRepositoryUnknown)
	if called {
		t.Error("ModifyRepository called fn for a repository that does not exist")
	}
	if err := s.DeleteRepository(t.Context(), other.ID, false); err != nil {
		t.Fatalf("DeleteRepository: %v", err)
	}
	err = s.ModifyRepository(t.Context(), other.ID, func(*meta.Repository) error { return nil })
	wantErr(t, "ModifyRepository(deleted)", err, meta.ErrRepositoryUnknown)
}

// testModifyRepositoryConcurrent runs read-modify-writes side by side: each
// adds one entry to a list in Settings, and none may be lost.
func testModifyRepositoryConcurrent(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "modify/concurrent")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.ModifyRepository(t.Context(), r.ID, func(got *meta.Repository) error {
				var keys []string
				if len(got.Settings) > 0 {
					if err := json.Unmarshal(got.Settings, &keys); err != nil {
						return err
					}
				}
				keys = append(keys, fmt.Sprintf("k%02d", i))
				b, err := json.Marshal(keys)
				got.Settings = b
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("ModifyRepository: %v", err)
		}
	}
	got, err := s.GetRepository(t.Context(), reg1, "modify/concurrent")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	var keys []string
	if err := json.Unmarshal(got.Settings, &keys); err != nil {
		t.Fatalf("settings %s: %v", got.Settings, err)
	}
	slices.Sort(keys)
	if len(slices.Compact(keys)) != n {
		t.Errorf("after %d concurrent modifications the settings hold %q: updates were lost", n, keys)
	}
}

func testRegistrySettings(t *testing.T, s meta.Store) {
	_, err := s.GetRegistrySetting(t.Context(), reg1, "BASIC_SCAN_TYPE_VERSION")
	wantErr(t, "GetRegistrySetting(never set)", err, meta.ErrNotFound)

	put := func(reg meta.RegistryKey, name, value string) {
		t.Helper()
		if err := s.PutRegistrySetting(t.Context(), reg, name, value); err != nil {
			t.Fatalf("PutRegistrySetting(%v, %s, %s): %v", reg, name, value, err)
		}
	}
	put(reg1, "BASIC_SCAN_TYPE_VERSION", "CLAIR")
	put(reg1, "REGISTRY_POLICY_SCOPE", "V1")
	put(reg2, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE")
	put(reg1, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE") // replaces
	put(reg1, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE") // and again, unchanged

	for _, tc := range []struct {
		reg         meta.RegistryKey
		name, value string
	}{
		{reg1, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"},
		{reg1, "REGISTRY_POLICY_SCOPE", "V1"},
		{reg2, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"},
		{reg2, "REGISTRY_POLICY_SCOPE", ""},
		{reg3, "BASIC_SCAN_TYPE_VERSION", ""}, // same account, other region
		{reg1, "registry_policy_scope", ""},   // names are case-sensitive
	} {
		got, err := s.GetRegistrySetting(t.Context(), tc.reg, tc.name)
		if tc.value == "" {
			if !errors.Is(err, meta.ErrNotFound) {
				t.Errorf("GetRegistrySetting(%v, %s) = %q, %v; want ErrNotFound", tc.reg, tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.value {
			t.Errorf("GetRegistrySetting(%v, %s) = %q, %v; want %q", tc.reg, tc.name, got, err, tc.value)
		}
	}
}
