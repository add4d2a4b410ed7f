// Package changes tells the caches of a deployment that what they hold is
// stale. A domain reports a change once it has committed (Notifier); the
// caches that depend on it subscribe to its topic: the authorization
// decisions to Policies, the repository-by-name cache to Repositories.
//
// Bus delivers a change to this process's subscribers and, through a
// Relay (PostgreSQL LISTEN/NOTIFY), to the other nodes' buses, which tell
// theirs. The caches' short time limits bound how long a change takes to
// be seen should a relay fail.
package changes

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
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
// to it, at once and in the order they subscribed, and publishes the
// topics to the other nodes through its relay, if it has one. The zero Bus
// is ready.
type Bus struct {
	mu    sync.RWMutex
	subs  map[Topic][]func()
	relay Relay
	log   *slog.Logger
}

// Relay carries changes between the nodes of a deployment.
type Relay interface {
	// Publish tells the other nodes (and may tell this one) of topics.
	Publish(ctx context.Context, topics []Topic) error
	// Listen calls fn with the topics the nodes publish until ctx ends or
	// the connection is lost, which it returns. ready is called once it
	// hears everything published from then on.
	Listen(ctx context.Context, ready func(), fn func(topics []Topic)) error
}

// AllTopics are every topic, for a node that may have missed changes.
var AllTopics = []Topic{Policies, Repositories}

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

// Changed implements Notifier: this process's subscribers at once, then
// the other nodes. A relay that fails is logged: the other nodes' caches
// then fall back on their time limits.
func (b *Bus) Changed(ctx context.Context, topics ...Topic) {
	if len(topics) == 0 {
		return
	}
	b.deliver(topics)
	b.mu.RLock()
	relay, log := b.relay, b.log
	b.mu.RUnlock()
	if relay != nil {
		if err := relay.Publish(context.WithoutCancel(ctx), topics); err != nil {
			log.WarnContext(ctx, "tell the other nodes of a change", "topics", topics, "err", err)
		}
	}
}

// deliver calls this process's subscribers of topics.
func (b *Bus) deliver(topics []Topic) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range topics {
		for _, fn := range b.subs[t] {
			fn()
		}
	}
}

// Relay has the bus publish its changes through r and deliver what r
// hears, until ctx ends: a listener that loses its connection listens
// again after a pause, and, since it may have missed changes meanwhile,
// delivers every topic once it hears again. Call it once, before the
// first change that must reach the other nodes; it returns at once.
func (b *Bus) Relay(ctx context.Context, r Relay, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	b.mu.Lock()
	b.relay, b.log = r, log
	b.mu.Unlock()
	go func() {
		first := true
		for ctx.Err() == nil {
			ready := func() {
				if !first {
					b.deliver(AllTopics)
				}
				first = false
			}
			err := r.Listen(ctx, ready, b.deliver)
			if ctx.Err() != nil {
				return
			}
			log.WarnContext(ctx, "listening for other nodes' changes; listening again shortly", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(relayRetry):
			}
		}
	}()
}

// relayRetry is the pause before a lost listener listens again.
const relayRetry = time.Second

// EncodeTopics and DecodeTopics are how a relay sends topics: a
// comma-separated list. Unknown names are dropped.
func EncodeTopics(topics []Topic) string {
	s := make([]string, len(topics))
	for i, t := range topics {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

// DecodeTopics reads EncodeTopics' list; unknown names are dropped.
func DecodeTopics(s string) []Topic {
	var out []Topic
	for _, name := range strings.Split(s, ",") {
		for _, t := range AllTopics {
			if string(t) == name {
				out = append(out, t)
			}
		}
	}
	return out
}

// Discard is a Notifier that tells no one: for a domain whose caller keeps
// no caches (a command-line tool, a test).
var Discard Notifier = discard{}

type discard struct{}

func (discard) Changed(context.Context, ...Topic) {}
