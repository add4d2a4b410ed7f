package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

// TestImageEvents: each change to images writes one job per event queue,
// in the change's transaction; a change that is refused writes none.
func TestImageEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService(t, true)
	s.opts.ImageEventQueues = []string{"events", "audit"}
	store := s.meta.(meta.JobStore)
	var seen int64
	// next returns the events written since the last call, one queue's.
	next := func(step string, want int) []ImageEvent {
		t.Helper()
		var out []ImageEvent
		for _, q := range s.opts.ImageEventQueues {
			js, err := store.ListJobs(ctx, meta.JobQuery{Queue: q, After: seen})
			if err != nil {
				t.Fatal(err)
			}
			if len(js) != want {
				t.Fatalf("%s: %d jobs in queue %s, want %d", step, len(js), q, want)
			}
			if q != s.opts.ImageEventQueues[0] {
				continue
			}
			for _, j := range js {
				var ev ImageEvent
				if err := json.Unmarshal(j.Payload, &ev); err != nil {
					t.Fatalf("%s: payload %s: %v", step, j.Payload, err)
				}
				out = append(out, ev)
			}
		}
		all, _ := store.ListJobs(ctx, meta.JobQuery{After: seen})
		if len(all) > 0 {
			seen = all[len(all)-1].ID
		}
		return out
	}

	d := pushTestImage(t, s, "app", "one", "v1", "latest")
	evs := next("push", 1)
	if ev := evs[0]; ev.Action != ImagePushed || ev.Digest != d || !slices.Equal(ev.Tags, []string{"v1", "latest"}) ||
		ev.Account != testReg.Account || ev.Region != testReg.Region || ev.Repository != "app" || ev.MediaType != MediaTypeOCIManifest || ev.At.IsZero() {
		t.Errorf("push event %+v", ev)
	}

	// A refused push asks for nothing.
	if _, err := s.SetTagMutability(ctx, testReg, "app", TagImmutable, nil); err != nil {
		t.Fatal(err)
	}
	config := digest.FromBytes([]byte(`{"os":"linux"}`)) // pushTestImage's
	other := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":14},"layers":[]}`,
		MediaTypeOCIManifest, config)
	if _, err := s.PutManifest(ctx, testReg, "app", "v1", MediaTypeOCIManifest, other, nil); !errors.Is(err, ErrTagImmutable) {
		t.Fatalf("moving an immutable tag: %v", err)
	}
	missing := []byte(`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dgA + `","size":1},"layers":[]}`)
	if _, err := s.PutManifest(ctx, testReg, "app", "v9", MediaTypeOCIManifest, missing, nil); !errors.Is(err, ErrManifestBlobUnknown) {
		t.Fatalf("a push referencing a missing blob: %v", err)
	}
	next("refused pushes", 0)
	if _, err := s.SetTagMutability(ctx, testReg, "app", TagMutable, nil); err != nil {
		t.Fatal(err)
	}

	// Untagging through BatchDeleteImage, then deleting by digest.
	if _, _, err := s.BatchDeleteImage(ctx, testReg, "app", []ImageID{{Tag: "latest"}}); err != nil {
		t.Fatal(err)
	}
	evs = next("untag", 1)
	if ev := evs[0]; ev.Action != ImageDeleted || ev.Digest != d || !slices.Equal(ev.Tags, []string{"latest"}) {
		t.Errorf("untag event %+v", ev)
	}
	if err := s.DeleteManifest(ctx, testReg, "app", d); err != nil {
		t.Fatal(err)
	}
	evs = next("delete", 1)
	if ev := evs[0]; ev.Action != ImageDeleted || ev.Digest != d {
		t.Errorf("delete event %+v", ev)
	}
	// Deleting what is gone asks for nothing.
	if err := s.DeleteManifest(ctx, testReg, "app", d); !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("delete again: %v", err)
	}
	next("delete of a missing image", 0)

	// Without queues, no job at all.
	s.opts.ImageEventQueues = nil
	pushTestImage(t, s, "app", "two", "v2")
	if all, _ := store.ListJobs(ctx, meta.JobQuery{After: seen}); len(all) != 0 {
		t.Errorf("with no event queues, %d jobs were written", len(all))
	}
}
