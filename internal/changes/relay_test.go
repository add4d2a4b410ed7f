package changes

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// hub is an in-memory relay shared by several buses, as a database would
// be: what one publishes every listener hears. drop ends every listener
// once, as a lost connection would.
type hub struct {
	mu        sync.Mutex
	listeners map[chan []Topic]bool
	lost      chan struct{}
}

func newHub() *hub { return &hub{listeners: map[chan []Topic]bool{}, lost: make(chan struct{})} }

func (h *hub) Publish(_ context.Context, topics []Topic) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		l <- DecodeTopics(EncodeTopics(topics))
	}
	return nil
}

func (h *hub) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.lost)
	h.lost = make(chan struct{})
}

func (h *hub) Listen(ctx context.Context, ready func(), fn func([]Topic)) error {
	l := make(chan []Topic, 16)
	h.mu.Lock()
	h.listeners[l] = true
	lost := h.lost
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.listeners, l)
		h.mu.Unlock()
	}()
	ready()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-lost:
			return errors.New("connection lost")
		case t := <-l:
			fn(t)
		}
	}
}

// waitFor waits for a topic to reach a channel of heard topics.
func waitFor(t *testing.T, heard chan Topic, want Topic, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-heard:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("%s: %s never arrived", what, want)
		}
	}
}

func TestRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHub()
	log := slog.New(slog.DiscardHandler)
	var a, b Bus
	heard := make(chan Topic, 64)
	b.Subscribe(Policies, func() { heard <- Policies })
	b.Subscribe(Repositories, func() { heard <- Repositories })
	a.Relay(ctx, h, log)
	b.Relay(ctx, h, log)
	// Both listen before anything is published.
	for {
		h.mu.Lock()
		n := len(h.listeners)
		h.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}

	a.Changed(ctx, Policies)
	waitFor(t, heard, Policies, "a change on the other node")

	// A lost connection may have missed changes: once listening again,
	// every topic is delivered.
	h.drop()
	waitFor(t, heard, Repositories, "every topic after listening again")
	a.Changed(ctx, Policies)
	waitFor(t, heard, Policies, "a change after listening again")
}

func TestTopicsEncoding(t *testing.T) {
	if got := DecodeTopics(EncodeTopics(AllTopics)); !slices.Equal(got, AllTopics) {
		t.Errorf("round trip: %v", got)
	}
	if got := DecodeTopics("policies,unheard-of"); !slices.Equal(got, []Topic{Policies}) {
		t.Errorf("an unknown name: %v", got)
	}
}
