package changes

import (
	"slices"
	"testing"
)

func TestBus(t *testing.T) {
	var b Bus
	var got []string
	b.Subscribe(Policies, func() { got = append(got, "policies 1") })
	b.Subscribe(Repositories, func() { got = append(got, "repositories") })
	b.Subscribe(Policies, func() { got = append(got, "policies 2") })

	b.Changed(t.Context(), Policies)
	if want := []string{"policies 1", "policies 2"}; !slices.Equal(got, want) {
		t.Fatalf("after a Policies change: %q, want %q", got, want)
	}
	got = nil
	b.Changed(t.Context(), Repositories, Policies)
	if want := []string{"repositories", "policies 1", "policies 2"}; !slices.Equal(got, want) {
		t.Fatalf("after two topics: %q, want %q", got, want)
	}
	got = nil
	b.Changed(t.Context())
	Discard.Changed(t.Context(), Policies)
	if got != nil {
		t.Fatalf("no topic, or the Discard notifier, called %q", got)
	}
}
