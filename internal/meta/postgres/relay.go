package postgres

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/changes"
)

// changesChannel is the NOTIFY channel the nodes of a deployment tell each
// other of changes on.
const changesChannel = "berth_changes"

// Relay carries the changes bus between the nodes that share the database,
// with LISTEN/NOTIFY: a change told on one node reaches the others'
// caches as soon as its notification arrives, well within a second.
func (s *Store) Relay() changes.Relay { return relay{s} }

type relay struct{ s *Store }

// Publish sends the topics as one notification. A notification sent in a
// transaction would wait for its commit; the changes are committed
// already, so it goes on its own.
func (r relay) Publish(ctx context.Context, topics []changes.Topic) error {
	if _, err := r.s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel, changes.EncodeTopics(topics)); err != nil {
		return wrap(ctx, "notify changes", err)
	}
	return nil
}

// Listen holds one of the pool's connections for as long as it listens.
func (r relay) Listen(ctx context.Context, ready func(), fn func([]changes.Topic)) error {
	conn, err := r.s.pool.Acquire(ctx)
	if err != nil {
		return wrap(ctx, "listen for changes", err)
	}
	// A connection that listened is not handed back to the pool: it would
	// carry its LISTEN, and notifications, to its next user.
	defer func() {
		conn.Hijack().Close(context.WithoutCancel(ctx))
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return wrap(ctx, "listen for changes", err)
	}
	ready()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return wrap(ctx, "wait for changes", fmt.Errorf("%w", err))
		}
		fn(changes.DecodeTopics(n.Payload))
	}
}
