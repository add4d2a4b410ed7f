package metatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// The Secrets Manager part of the suite (meta.SecretStore).

func newSecret(t *testing.T, s meta.Store, reg meta.RegistryKey, name string, v *meta.SecretVersion, tags ...meta.Tag) *meta.Secret {
	t.Helper()
	sec := &meta.Secret{Registry: reg, Name: name, ARN: "arn:aws:secretsmanager:" + reg.Region + ":" + reg.Account + ":secret:" + name + "-AbCdEf",
		Description: "d " + name, KMSKeyID: "alias/k", CreatedAt: at(0), ChangedAt: at(1), Tags: tags}
	if err := s.CreateSecret(t.Context(), sec, v); err != nil {
		t.Fatalf("CreateSecret(%s): %v", name, err)
	}
	if sec.ID == 0 {
		t.Fatalf("CreateSecret(%s) left ID 0", name)
	}
	return sec
}

func secretVersion(id string, n int, stages ...string) *meta.SecretVersion {
	return &meta.SecretVersion{ID: id, Stages: stages, CreatedAt: at(n), Value: []byte("sealed " + id)}
}

func getSecret(t *testing.T, s meta.Store, reg meta.RegistryKey, name string) *meta.Secret {
	t.Helper()
	sec, err := s.Secret(t.Context(), reg, name)
	if err != nil {
		t.Fatalf("Secret(%s): %v", name, err)
	}
	return sec
}

// stages maps each version ID to its labels, as read back.
func stages(sec *meta.Secret) map[string][]string {
	out := map[string][]string{}
	for _, v := range sec.Versions {
		out[v.ID] = v.Stages
	}
	return out
}

func checkStages(t *testing.T, what string, sec *meta.Secret, want map[string][]string) {
	t.Helper()
	got := stages(sec)
	if len(got) != len(want) {
		t.Errorf("%s: versions %v, want %v", what, got, want)
		return
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || !sameStrings(g, w) {
			t.Errorf("%s: versions %v, want %v", what, got, want)
			return
		}
	}
}

func putSecretVersion(t *testing.T, s meta.Store, id int64, v *meta.SecretVersion) {
	t.Helper()
	if err := s.UpdateSecret(t.Context(), id, meta.SecretUpdate{At: v.CreatedAt, Version: v, Live: true}); err != nil {
		t.Fatalf("UpdateSecret(version %s): %v", v.ID, err)
	}
}

func testSecretCreateGet(t *testing.T, s meta.Store) {
	ctx := t.Context()
	sec := newSecret(t, s, reg1, "ecr-pullthroughcache/hub", secretVersion("v1", 0, meta.StageCurrent),
		meta.Tag{Key: "team", Value: "a"}, meta.Tag{Key: "env", Value: "prod"})
	got := getSecret(t, s, reg1, "ecr-pullthroughcache/hub")
	if got.ID != sec.ID || got.ARN != sec.ARN || got.Registry != reg1 || got.Name != sec.Name ||
		got.Description != sec.Description || got.KMSKeyID != sec.KMSKeyID || got.Scheduled() {
		t.Errorf("Secret = %+v, want %+v", got, sec)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, at(0))
	checkTime(t, "ChangedAt", got.ChangedAt, at(1))
	checkTime(t, "AccessedAt", got.AccessedAt, time.Time{})
	if want := []meta.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "a"}}; !slices.Equal(got.Tags, want) {
		t.Errorf("Tags = %v, want %v in key order", got.Tags, want)
	}
	checkStages(t, "new secret", got, map[string][]string{"v1": {meta.StageCurrent}})
	if got.Versions[0].Value != nil {
		t.Errorf("Secret read a version's value; only SecretVersionValue does")
	}
	byARN, err := s.SecretByARN(ctx, sec.ARN)
	if err != nil || byARN.ID != sec.ID || len(byARN.Versions) != 1 || len(byARN.Tags) != 2 {
		t.Errorf("SecretByARN = %+v, %v", byARN, err)
	}

	// A name is taken per registry; another registry has its own.
	dup := &meta.Secret{Registry: reg1, Name: sec.Name, ARN: sec.ARN + "x", CreatedAt: at(2), ChangedAt: at(2)}
	wantErr(t, "CreateSecret of a taken name", s.CreateSecret(ctx, dup, nil), meta.ErrSecretExists)
	other := newSecret(t, s, reg3, sec.Name, nil)
	if other.ID == sec.ID {
		t.Errorf("the same name in another registry got the same ID")
	}
	if got := getSecret(t, s, reg3, sec.Name); len(got.Versions) != 0 || len(got.Tags) != 0 {
		t.Errorf("a secret created without a value has versions %v, tags %v", got.Versions, got.Tags)
	}

	_, err = s.Secret(ctx, reg2, sec.Name)
	wantErr(t, "Secret of another account", err, meta.ErrSecretNotFound)
	_, err = s.SecretByARN(ctx, sec.ARN+"-nope")
	wantErr(t, "SecretByARN of nothing", err, meta.ErrSecretNotFound)

	newSecret(t, s, reg1, "a-first", nil)
	list, err := s.Secrets(ctx, reg1)
	if err != nil {
		t.Fatalf("Secrets: %v", err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	if want := []string{"a-first", "ecr-pullthroughcache/hub"}; !slices.Equal(names, want) {
		t.Errorf("Secrets = %v, want %v", names, want)
	}
	if l := list[1]; len(l.Tags) != 2 || len(l.Versions) != 1 {
		t.Errorf("Secrets gave %s with tags %v and versions %v", l.Name, l.Tags, l.Versions)
	}
}

func testSecretVersions(t *testing.T, s meta.Store) {
	ctx := t.Context()
	sec := newSecret(t, s, reg1, "creds", secretVersion("v1", 0, meta.StageCurrent))
	putSecretVersion(t, s, sec.ID, secretVersion("v2", 1, meta.StageCurrent))
	checkStages(t, "after v2", getSecret(t, s, reg1, "creds"), map[string][]string{
		"v2": {meta.StageCurrent}, "v1": {meta.StagePrevious}})
	putSecretVersion(t, s, sec.ID, secretVersion("v3", 2, meta.StageCurrent, "custom"))
	got := getSecret(t, s, reg1, "creds")
	checkStages(t, "after v3", got, map[string][]string{
		"v3": {meta.StageCurrent, "custom"}, "v2": {meta.StagePrevious}, "v1": nil})
	if ids := []string{got.Versions[0].ID, got.Versions[1].ID, got.Versions[2].ID}; !slices.Equal(ids, []string{"v3", "v2", "v1"}) {
		t.Errorf("versions in order %v, want newest first", ids)
	}
	// A label other than AWSCURRENT moves alone.
	putSecretVersion(t, s, sec.ID, secretVersion("v4", 3, "custom"))
	checkStages(t, "after v4", getSecret(t, s, reg1, "creds"), map[string][]string{
		"v4": {"custom"}, "v3": {meta.StageCurrent}, "v2": {meta.StagePrevious}, "v1": nil})

	err := s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{Version: secretVersion("v2", 4, meta.StageCurrent)})
	wantErr(t, "a version ID taken", err, meta.ErrSecretVersionExists)
	got = getSecret(t, s, reg1, "creds")
	checkStages(t, "after a refused version", got, map[string][]string{
		"v4": {"custom"}, "v3": {meta.StageCurrent}, "v2": {meta.StagePrevious}, "v1": nil})

	for _, tc := range []struct {
		id, stage string
		wantID    string
		wantErr   error
	}{
		{stage: meta.StageCurrent, wantID: "v3"},
		{stage: meta.StagePrevious, wantID: "v2"},
		{id: "v1", wantID: "v1"},
		{id: "v1", stage: meta.StageCurrent, wantID: "v1"}, // by ID; the caller checks the label
		{id: "v9", wantErr: meta.ErrSecretVersionNotFound},
		{stage: "nope", wantErr: meta.ErrSecretVersionNotFound},
	} {
		v, err := s.SecretVersionValue(ctx, sec.ID, tc.id, tc.stage)
		wantErr(t, fmt.Sprintf("SecretVersionValue(%q, %q)", tc.id, tc.stage), err, tc.wantErr)
		if tc.wantErr != nil {
			continue
		}
		if v.ID != tc.wantID || string(v.Value) != "sealed "+tc.wantID || !sameStrings(v.Stages, stages(got)[tc.wantID]) {
			t.Errorf("SecretVersionValue(%q, %q) = %s %q %v", tc.id, tc.stage, v.ID, v.Value, v.Stages)
		}
		created := map[string]time.Time{"v1": at(0), "v2": at(1), "v3": at(2)}[tc.wantID]
		checkTime(t, "version CreatedAt", v.CreatedAt, created)
	}
	_, err = s.SecretVersionValue(ctx, sec.ID+1000, "", meta.StageCurrent)
	wantErr(t, "SecretVersionValue of no secret", err, meta.ErrSecretNotFound)
	err = s.UpdateSecret(ctx, sec.ID+1000, meta.SecretUpdate{At: at(9)})
	wantErr(t, "UpdateSecret of no secret", err, meta.ErrSecretNotFound)
}

func testSecretUpdate(t *testing.T, s meta.Store) {
	ctx := t.Context()
	sec := newSecret(t, s, reg1, "creds", nil, meta.Tag{Key: "a", Value: "1"}, meta.Tag{Key: "b", Value: "2"})
	desc, kms := "new description", ""
	err := s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{At: at(5), Description: &desc, KMSKeyID: &kms,
		SetTags: []meta.Tag{{Key: "b", Value: "two"}, {Key: "c", Value: "3"}}, RemoveTags: []string{"a", "nope"}})
	if err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	got := getSecret(t, s, reg1, "creds")
	if got.Description != desc || got.KMSKeyID != "" {
		t.Errorf("after the update: description %q, KMS key %q", got.Description, got.KMSKeyID)
	}
	if want := []meta.Tag{{Key: "b", Value: "two"}, {Key: "c", Value: "3"}}; !slices.Equal(got.Tags, want) {
		t.Errorf("Tags = %v, want %v", got.Tags, want)
	}
	checkTime(t, "ChangedAt", got.ChangedAt, at(5))

	// Unset fields stay; AccessedAt alone leaves ChangedAt.
	if err := s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{AccessedAt: at(7)}); err != nil {
		t.Fatalf("UpdateSecret(AccessedAt): %v", err)
	}
	got = getSecret(t, s, reg1, "creds")
	checkTime(t, "ChangedAt", got.ChangedAt, at(5))
	checkTime(t, "AccessedAt", got.AccessedAt, at(7))
	if got.Description != desc || len(got.Tags) != 2 {
		t.Errorf("an update of AccessedAt changed more: %+v", got)
	}

	// Scheduled for deletion, a live update is refused, whole; restoring
	// makes it live again.
	sched := &meta.SecretSchedule{DeletedAt: at(10), DeletionDate: at(100)}
	if err := s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{At: at(10), Schedule: sched, Live: true}); err != nil {
		t.Fatalf("UpdateSecret(schedule): %v", err)
	}
	got = getSecret(t, s, reg1, "creds")
	if !got.Scheduled() {
		t.Fatalf("the secret is not scheduled for deletion")
	}
	checkTime(t, "DeletedAt", got.DeletedAt, at(10))
	checkTime(t, "DeletionDate", got.DeletionDate, at(100))
	other := "other"
	err = s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{At: at(11), Description: &other, Version: secretVersion("v1", 11, meta.StageCurrent), Live: true})
	wantErr(t, "a live update of a scheduled secret", err, meta.ErrSecretScheduled)
	if got := getSecret(t, s, reg1, "creds"); got.Description != desc || len(got.Versions) != 0 {
		t.Errorf("a refused update changed the secret: %+v", got)
	}
	if err := s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{At: at(12), Schedule: &meta.SecretSchedule{}}); err != nil {
		t.Fatalf("UpdateSecret(restore): %v", err)
	}
	got = getSecret(t, s, reg1, "creds")
	if got.Scheduled() || !got.DeletedAt.IsZero() {
		t.Errorf("after restoring: DeletedAt %v, DeletionDate %v", got.DeletedAt, got.DeletionDate)
	}
	putSecretVersion(t, s, sec.ID, secretVersion("v1", 13, meta.StageCurrent))
}

func testSecretDelete(t *testing.T, s meta.Store) {
	ctx := t.Context()
	sec := newSecret(t, s, reg1, "creds", secretVersion("v1", 0, meta.StageCurrent), meta.Tag{Key: "a", Value: "1"})
	putSecretVersion(t, s, sec.ID, secretVersion("v2", 1, meta.StageCurrent))
	if err := s.DeleteSecret(ctx, sec.ID); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	_, err := s.Secret(ctx, reg1, "creds")
	wantErr(t, "Secret after DeleteSecret", err, meta.ErrSecretNotFound)
	_, err = s.SecretVersionValue(ctx, sec.ID, "v1", "")
	wantErr(t, "SecretVersionValue after DeleteSecret", err, meta.ErrSecretNotFound)
	wantErr(t, "DeleteSecret again", s.DeleteSecret(ctx, sec.ID), meta.ErrSecretNotFound)
	// The name is free again, and the new secret has nothing of the old.
	again := newSecret(t, s, reg1, "creds", nil)
	if got := getSecret(t, s, reg1, "creds"); got.ID != again.ID || len(got.Versions) != 0 || len(got.Tags) != 0 {
		t.Errorf("a secret re-created after deletion = %+v", got)
	}
}

func testSecretScheduledName(t *testing.T, s meta.Store) {
	ctx := t.Context()
	sec := newSecret(t, s, reg1, "creds", secretVersion("v1", 0, meta.StageCurrent))
	sched := &meta.SecretSchedule{DeletedAt: at(10), DeletionDate: at(100)}
	if err := s.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{Schedule: sched}); err != nil {
		t.Fatalf("UpdateSecret(schedule): %v", err)
	}
	early := &meta.Secret{Registry: reg1, Name: "creds", ARN: sec.ARN + "2", CreatedAt: at(99), ChangedAt: at(99)}
	wantErr(t, "CreateSecret before the deletion date", s.CreateSecret(ctx, early, nil), meta.ErrSecretScheduled)
	late := &meta.Secret{Registry: reg1, Name: "creds", ARN: sec.ARN + "3", CreatedAt: at(100), ChangedAt: at(100)}
	if err := s.CreateSecret(ctx, late, secretVersion("new", 100, meta.StageCurrent)); err != nil {
		t.Fatalf("CreateSecret once the deletion date came: %v", err)
	}
	got := getSecret(t, s, reg1, "creds")
	if got.ID != late.ID || got.ARN != late.ARN || got.Scheduled() {
		t.Errorf("the secret in the old one's place = %+v", got)
	}
	checkStages(t, "the new secret", got, map[string][]string{"new": {meta.StageCurrent}})
	_, err := s.SecretByARN(ctx, sec.ARN)
	wantErr(t, "the old secret by ARN", err, meta.ErrSecretNotFound)
}

// testSecretPrune adds versions past the limit: the oldest deprecated ones
// go, those with labels stay.
func testSecretPrune(t *testing.T, s meta.Store) {
	sec := newSecret(t, s, reg1, "creds", secretVersion("v000", 0, "keep"))
	n := meta.MaxSecretVersions + 5
	for i := 1; i < n; i++ {
		putSecretVersion(t, s, sec.ID, secretVersion(fmt.Sprintf("v%03d", i), i, meta.StageCurrent))
	}
	got := getSecret(t, s, reg1, "creds")
	if len(got.Versions) != meta.MaxSecretVersions {
		t.Fatalf("%d versions kept, want %d", len(got.Versions), meta.MaxSecretVersions)
	}
	st := stages(got)
	if !sameStrings(st["v000"], []string{"keep"}) {
		t.Errorf("the oldest version, labelled, was removed: %v", st["v000"])
	}
	for _, gone := range []string{"v001", "v002", "v003", "v004", "v005"} {
		if _, ok := st[gone]; ok {
			t.Errorf("deprecated version %s kept past the limit", gone)
		}
	}
	if !sameStrings(st[fmt.Sprintf("v%03d", n-1)], []string{meta.StageCurrent}) || !sameStrings(st[fmt.Sprintf("v%03d", n-2)], []string{meta.StagePrevious}) {
		t.Errorf("the newest versions' labels: %v", st)
	}
}

// testConcurrentSecretVersions adds versions from many writers at once:
// in the end one version is AWSCURRENT and another AWSPREVIOUS, and none
// was lost.
func testConcurrentSecretVersions(t *testing.T, s meta.Store) {
	sec := newSecret(t, s, reg1, "creds", secretVersion("v0", 0, meta.StageCurrent))
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			v := secretVersion(fmt.Sprintf("w%02d", i), i+1, meta.StageCurrent)
			errs[i] = s.UpdateSecret(context.Background(), sec.ID, meta.SecretUpdate{Version: v, Live: true})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	got := getSecret(t, s, reg1, "creds")
	if len(got.Versions) != n+1 {
		t.Errorf("%d versions, want %d", len(got.Versions), n+1)
	}
	count := map[string]int{}
	for _, v := range got.Versions {
		for _, st := range v.Stages {
			count[st]++
		}
		if len(v.Stages) > 1 {
			t.Errorf("version %s has labels %v", v.ID, v.Stages)
		}
	}
	if count[meta.StageCurrent] != 1 || count[meta.StagePrevious] != 1 {
		t.Errorf("labels held: %v, want one AWSCURRENT and one AWSPREVIOUS", count)
	}
}

// testConcurrentCreateSecret creates one name from many writers: one wins.
func testConcurrentCreateSecret(t *testing.T, s meta.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			sec := &meta.Secret{Registry: reg1, Name: "creds", ARN: fmt.Sprintf("arn:aws:secretsmanager:eu-west-1:111111111111:secret:creds-%06d", i),
				CreatedAt: at(0), ChangedAt: at(0)}
			errs[i] = s.CreateSecret(context.Background(), sec, secretVersion("v", 0, meta.StageCurrent))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, meta.ErrSecretExists):
			t.Errorf("CreateSecret: %v, want ErrSecretExists for all but one", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creations of one name succeeded, want 1", won)
	}
}
