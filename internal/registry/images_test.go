package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

// pushTestImage pushes a config blob and an OCI manifest over it, tagged
// with tags (by digest when there are none), and returns its digest.
func pushTestImage(t *testing.T, s *Service, name, note string, tags ...string) string {
	t.Helper()
	ctx := context.Background()
	config := []byte(`{"os":"linux"}`)
	cd := digest.FromBytes(config)
	if err := s.PutBlob(ctx, testReg, name, cd, strings.NewReader(string(config))); err != nil {
		t.Fatal(err)
	}
	m := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[],"annotations":{"note":%q}}`,
		MediaTypeOCIManifest, cd, len(config), note)
	d := digest.FromBytes(m).String()
	ref := d
	if len(tags) > 0 {
		ref = tags[0]
	}
	if _, err := s.PutManifest(ctx, testReg, name, ref, MediaTypeOCIManifest, m, tags); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestListImageIDsPages(t *testing.T) {
	s, _ := newTestService(t, true)
	ctx := context.Background()
	var want []ImageID
	for i := range 4 {
		var tags []string
		for j := range i {
			tags = append(tags, fmt.Sprintf("t%d-%d", i, j))
		}
		d := pushTestImage(t, s, "app", fmt.Sprint(i), tags...)
		if len(tags) == 0 {
			want = append(want, ImageID{Digest: d})
		}
		for _, tag := range tags {
			want = append(want, ImageID{Digest: d, Tag: tag})
		}
	}
	slices.SortFunc(want, func(a, b ImageID) int {
		return strings.Compare(a.Digest+"@"+a.Tag, b.Digest+"@"+b.Tag)
	})
	for _, n := range []int{1, 2, 3, 4, 7, 100} {
		var got []ImageID
		var after ImageID
		for pages := 0; ; pages++ {
			page, next, err := s.ListImageIDs(ctx, testReg, "app", meta.TagStatusAny, after, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > n || pages > len(want) {
				t.Fatalf("n=%d: page of %d", n, len(page))
			}
			got = append(got, page...)
			if next == nil {
				break
			}
			after = *next
		}
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: ids %v, want %v", n, got, want)
		}
	}
}

func TestRecordPull(t *testing.T) {
	s, _ := newTestService(t, true)
	ctx := context.Background()
	d := pushTestImage(t, s, "app", "pulled", "v1")
	other := pushTestImage(t, s, "app", "not pulled", "v2")
	before := time.Now().Add(-time.Second)

	s.RecordPull(testReg, "app", d)
	s.RecordPull(testReg, "gone", d) // a repository that does not exist is skipped
	s.FlushPulls(ctx)
	m, err := s.GetManifest(ctx, testReg, "app", d)
	if err != nil {
		t.Fatal(err)
	}
	if m.LastPulledAt.Before(before) || m.LastPulledAt.After(time.Now()) {
		t.Errorf("LastPulledAt = %v, want about now", m.LastPulledAt)
	}
	if m, _ := s.GetManifest(ctx, testReg, "app", other); !m.LastPulledAt.IsZero() {
		t.Errorf("an image that was not pulled has LastPulledAt %v", m.LastPulledAt)
	}

	// Without an explicit flush, the background flusher writes it soon.
	s.RecordPull(testReg, "app", other)
	deadline := time.Now().Add(5 * pullFlushInterval)
	for {
		m, _ := s.GetManifest(ctx, testReg, "app", other)
		if !m.LastPulledAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pull not flushed in the background")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And the flusher stops once idle, ready to start again.
	time.Sleep(3 * pullFlushInterval)
	p := s.pulls()
	p.mu.Lock()
	running := p.running
	p.mu.Unlock()
	if running {
		t.Error("the pull flusher still runs with nothing to write")
	}
}
