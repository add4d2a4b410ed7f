// Package changes tells the caches of a deployment that what they hold is
// stale. A domain reports a change once it has committed (Notifier); the
// caches that depend on it subscribe to its topic: the authorization
// decisions to Policies, the repository-by-name cache to Repositories.
//
// Bus delivers a change to this process's subscribers. On several nodes
// each node's Bus must also hear the others' changes (PostgreSQL
// LISTEN/NOTIFY); until it does, the caches' short time limits bound how
// long another node's change takes to be seen.
package changes

import (
	"context"
	"sync"
)

// Topic is a kind of change.
type Topic string

const (
	// Policies: an identity, a policy, a repository's policy or tags, or a
	// repository itself changed, so authorization decisions are stale.
	Policies Topic = "policies"
	// Repositories: a repository was created, changed or deleted, so the
	// repositories cached by name are stale.
	Repositories Topic = "repositories"
)

// Notifier is told of committed changes.
type Notifier interface {
	Changed(ctx context.Context, topics ...Topic)
}

// Bus is a Notifier that calls, for each topic, the functions subscribed
// to it, at once and in the order they subscribed. The zero Bus is ready.
type Bus struct {
	mu   sync.RWMutex
	subs map[Topic][]func()
}

// Subscribe calls fn on every change of topic from now on. fn must be
// quick: it runs on the goroutine that made the change.
func (b *Bus) Subscribe(topic Topic, fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[Topic][]func(){}
	}
	b.subs[topic] = append(b.subs[topic], fn)
}

// Changed implements Notifier.
func (b *Bus) Changed(_ context.Context, topics ...Topic) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range topics {
		for _, fn := range b.subs[t] {
			fn()
		}
	}
}

// Discard is a Notifier that tells no one: for a domain whose caller keeps
// no caches (a command-line tool, a test).
var Discard Notifier = discard{}

type discard struct{}

func (discard) Changed(context.Context, ...Topic) {}
