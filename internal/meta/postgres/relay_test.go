package postgres

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// TestRelay: a change told on one node's bus reaches another node's
// subscribers through the database within a second, and a node whose
// listening connection is cut listens again and, having perhaps missed
// changes, tells every topic.
func TestRelay(t *testing.T) {
	pgtest.Require(t)
	url := pgtest.NewDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	log := slog.New(slog.DiscardHandler)

	var busA, busB changes.Bus
	heard := make(chan changes.Topic, 64)
	busB.Subscribe(changes.Policies, func() { heard <- changes.Policies })
	busB.Subscribe(changes.Repositories, func() { heard <- changes.Repositories })
	busA.Relay(ctx, a.Relay(), log)
	busB.Relay(ctx, b.Relay(), log)

	wait := func(want changes.Topic, within time.Duration, what string) {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case got := <-heard:
				if got == want {
					return
				}
			case <-deadline:
				t.Fatalf("%s: %s not heard within %v", what, want, within)
			}
		}
	}
	// b listens once its connection has said LISTEN; until then a change
	// could pass unheard, so tell one until it is heard.
	deadline := time.Now().Add(10 * time.Second)
	for listening := false; !listening; {
		busA.Changed(ctx, changes.Policies)
		select {
		case <-heard:
			listening = true
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("the other node never heard a change")
			}
		}
	}
	start := time.Now()
	busA.Changed(ctx, changes.Repositories)
	wait(changes.Repositories, time.Second, "a change on the other node")
	t.Logf("heard on the other node after %v", time.Since(start))

	// Cut b's listening connection, as a restart of the database or a
	// network failure would.
	if _, err := a.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	wait(changes.Repositories, 10*time.Second, "every topic after listening again")
	busA.Changed(ctx, changes.Policies)
	wait(changes.Policies, 10*time.Second, "a change after listening again")
}
