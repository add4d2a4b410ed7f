package metatest

import (
	"context"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// testPublicAliases: an alias belongs to one account, an account has one
// alias, and both ways of looking it up agree.
func testPublicAliases(t *testing.T, s meta.Store) {
	ctx := t.Context()
	_, err := s.PublicAliasAccount(ctx, "berth")
	wantErr(t, "PublicAliasAccount(never set)", err, meta.ErrNotFound)
	_, err = s.PublicAliasOf(ctx, reg1.Account)
	wantErr(t, "PublicAliasOf(never set)", err, meta.ErrNotFound)

	steps := []struct {
		account, alias string
		want           error
	}{
		{reg1.Account, "berth", nil},
		{reg1.Account, "berth", nil}, // again: nothing changes
		{reg2.Account, "berth", meta.ErrPublicAliasTaken},
		{reg2.Account, "other", nil},
		{reg1.Account, "renamed", nil}, // replaces berth, which is free again
		{reg2.Account, "berth", nil},
	}
	for i, st := range steps {
		err := s.SetPublicAlias(ctx, meta.PublicAlias{Alias: st.alias, Account: st.account, CreatedAt: at(i)})
		wantErr(t, "SetPublicAlias("+st.account+", "+st.alias+")", err, st.want)
	}
	for alias, want := range map[string]string{"renamed": reg1.Account, "berth": reg2.Account} {
		got, err := s.PublicAliasAccount(ctx, alias)
		if err != nil || got != want {
			t.Errorf("PublicAliasAccount(%s) = %q, %v; want %s", alias, got, err, want)
		}
	}
	_, err = s.PublicAliasAccount(ctx, "other")
	wantErr(t, "PublicAliasAccount(replaced)", err, meta.ErrNotFound)
	a, err := s.PublicAliasOf(ctx, reg1.Account)
	if err != nil || a.Alias != "renamed" || a.Account != reg1.Account || !a.CreatedAt.Equal(at(4)) {
		t.Errorf("PublicAliasOf = %+v, %v; want renamed, set at %v", a, err, at(4))
	}
	list, err := s.ListPublicAliases(ctx)
	if err != nil || len(list) != 2 || list[0].Alias != "berth" || list[1].Alias != "renamed" || list[0].Account != reg2.Account {
		t.Fatalf("ListPublicAliases = %+v, %v; want berth (%s), renamed (%s)", list, err, reg2.Account, reg1.Account)
	}
}

// testPublicPullCounts: counters are per key and window, and start again
// in each window.
func testPublicPullCounts(t *testing.T, s meta.Store) {
	ctx := t.Context()
	for i, tc := range []struct {
		key    string
		window int64
		want   int64
	}{
		{"192.0.2.1", 100, 1},
		{"192.0.2.1", 100, 2},
		{"192.0.2.2", 100, 1},
		{"192.0.2.1", 100, 3},
		{"192.0.2.1", 101, 1},
		{"192.0.2.1", 100, 4}, // the window before still counts
		{"192.0.2.1", 105, 1}, // and later ones drop it
		{"192.0.2.1", 100, 1},
	} {
		got, err := s.CountPublicPull(ctx, tc.key, tc.window)
		if err != nil || got != tc.want {
			t.Errorf("step %d: CountPublicPull(%s, %d) = %d, %v; want %d", i, tc.key, tc.window, got, err, tc.want)
		}
	}
}

// testConcurrentPublicPullCounts: increments from several nodes at once all
// count, so a limit holds across nodes.
func testConcurrentPublicPullCounts(t *testing.T, s meta.Store) {
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := s.CountPublicPull(context.WithoutCancel(t.Context()), "198.51.100.7", 7); err != nil {
					t.Errorf("CountPublicPull: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.CountPublicPull(t.Context(), "198.51.100.7", 7)
	if err != nil || got != workers*each+1 {
		t.Errorf("after %d concurrent pulls, the counter reads %d, %v; want %d", workers*each, got, err, workers*each+1)
	}
}
