package events

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/scan"
)

type recorder struct {
	got  []Event
	fail error
}

func (r *recorder) Send(_ context.Context, e Event) error {
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, e)
	return nil
}

func job(t *testing.T, id int64, ev registry.ImageEvent) *meta.Job {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return &meta.Job{ID: id, Queue: Queue, Payload: b}
}

func TestHandler(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	push := registry.ImageEvent{Action: registry.ImagePushed, Account: "123456789012", Region: "eu-west-1", Repository: "team/app",
		Digest: "sha256:aa", Tags: []string{"v1", "latest"}, MediaType: "application/vnd.oci.image.manifest.v1+json", At: at}
	untag := registry.ImageEvent{Action: registry.ImageDeleted, Account: "123456789012", Region: "eu-west-1", Repository: "team/app",
		Tags: []string{"old"}, At: at}
	gone := registry.ImageEvent{Action: registry.ImageDeleted, Account: "123456789012", Region: "eu-west-1", Repository: "team/app",
		Digest: "sha256:bb", At: at}
	for _, tc := range []struct {
		name string
		ev   registry.ImageEvent
		want []ImageActionDetail
	}{
		{"a push with two tags is two events", push, []ImageActionDetail{
			{Result: "SUCCESS", RepositoryName: "team/app", ImageDigest: "sha256:aa", ActionType: "PUSH", ImageTag: "v1", ManifestMediaType: push.MediaType},
			{Result: "SUCCESS", RepositoryName: "team/app", ImageDigest: "sha256:aa", ActionType: "PUSH", ImageTag: "latest", ManifestMediaType: push.MediaType},
		}},
		{"a tag deleted by name", untag, []ImageActionDetail{
			{Result: "SUCCESS", RepositoryName: "team/app", ActionType: "DELETE", ImageTag: "old"},
		}},
		{"an untagged image deleted", gone, []ImageActionDetail{
			{Result: "SUCCESS", RepositoryName: "team/app", ImageDigest: "sha256:bb", ActionType: "DELETE"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			if err := Handler(&r)(t.Context(), job(t, 7, tc.ev)); err != nil {
				t.Fatal(err)
			}
			if len(r.got) != len(tc.want) {
				t.Fatalf("%d events, want %d: %+v", len(r.got), len(tc.want), r.got)
			}
			ids := map[string]bool{}
			for i, e := range r.got {
				if e.Detail != tc.want[i] {
					t.Errorf("event %d detail %+v, want %+v", i, e.Detail, tc.want[i])
				}
				if e.DetailType != "ECR Image Action" || e.Source != "aws.ecr" || e.Account != "123456789012" || e.Region != "eu-west-1" ||
					!e.Time.Equal(at) || len(e.Resources) != 1 || e.Resources[0] != "arn:aws:ecr:eu-west-1:123456789012:repository/team/app" {
					t.Errorf("event %d envelope %+v", i, e)
				}
				ids[e.ID] = true
			}
			if len(ids) != len(r.got) {
				t.Errorf("event ids repeat: %v", ids)
			}
			// The same job run again sends the same ids.
			var again recorder
			Handler(&again)(t.Context(), job(t, 7, tc.ev))
			for i := range again.got {
				if again.got[i].ID != r.got[i].ID {
					t.Errorf("run again, event %d has id %s, not %s", i, again.got[i].ID, r.got[i].ID)
				}
			}
		})
	}
}

func TestHandlerFailures(t *testing.T) {
	bad := &meta.Job{ID: 1, Payload: []byte("not json")}
	if err := Handler(&recorder{})(t.Context(), bad); err == nil {
		t.Error("an unreadable payload was accepted")
	}
	down := errors.New("sink down")
	err := Handler(&recorder{fail: down})(t.Context(), job(t, 2, registry.ImageEvent{Action: registry.ImagePushed}))
	if !errors.Is(err, down) {
		t.Errorf("a sink's failure: %v, want it returned for a retry", err)
	}
}

func TestScanHandler(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 500, time.UTC)
	ev := scan.Event{Digest: "sha256:bb", Status: meta.ScanComplete, SeverityCounts: map[string]int{"HIGH": 2, "LOW": 1}, CompletedAt: at,
		Repositories: []scan.EventRepository{
			{Account: "123456789012", Region: "eu-west-1", Name: "team/app", Tags: []string{"v1"}},
			{Account: "210987654321", Region: "us-east-1", Name: "mirror"},
		}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	if err := ScanHandler(&r)(t.Context(), &meta.Job{ID: 9, Queue: ScanQueue, Payload: b}); err != nil {
		t.Fatalf("ScanHandler: %v", err)
	}
	if len(r.got) != 2 {
		t.Fatalf("%d events, want one per repository: %+v", len(r.got), r.got)
	}
	want := []struct {
		account, region, arn string
		detail               string
	}{
		{"123456789012", "eu-west-1", "arn:aws:ecr:eu-west-1:123456789012:repository/team/app",
			`{"scan-status":"COMPLETE","repository-name":"team/app","finding-severity-counts":{"HIGH":2,"LOW":1},"image-digest":"sha256:bb","image-tags":["v1"]}`},
		{"210987654321", "us-east-1", "arn:aws:ecr:us-east-1:210987654321:repository/mirror",
			`{"scan-status":"COMPLETE","repository-name":"mirror","finding-severity-counts":{"HIGH":2,"LOW":1},"image-digest":"sha256:bb","image-tags":[]}`},
	}
	for i, e := range r.got {
		if e.DetailType != "ECR Image Scan" || e.Source != "aws.ecr" || e.Version != "0" || e.Account != want[i].account ||
			e.Region != want[i].region || !e.Time.Equal(at.Truncate(time.Second)) || len(e.Resources) != 1 || e.Resources[0] != want[i].arn {
			t.Errorf("event %d envelope %+v", i, e)
		}
		d, err := json.Marshal(e.Detail)
		if err != nil {
			t.Fatal(err)
		}
		if string(d) != want[i].detail {
			t.Errorf("event %d detail %s, want %s", i, d, want[i].detail)
		}
	}
	if r.got[0].ID == r.got[1].ID {
		t.Errorf("both events have id %s", r.got[0].ID)
	}
	// A failed scan has no counts: ECR's event still carries the object.
	failed, _ := json.Marshal(scan.Event{Digest: "sha256:cc", Status: meta.ScanFailed, CompletedAt: at,
		Repositories: []scan.EventRepository{{Account: "123456789012", Region: "eu-west-1", Name: "app"}}})
	var f recorder
	if err := ScanHandler(&f)(t.Context(), &meta.Job{ID: 10, Payload: failed}); err != nil {
		t.Fatal(err)
	}
	if d, _ := json.Marshal(f.got[0].Detail); !strings.Contains(string(d), `"scan-status":"FAILED"`) || !strings.Contains(string(d), `"finding-severity-counts":{}`) {
		t.Errorf("failed scan's detail %s", d)
	}
	if err := ScanHandler(&recorder{})(t.Context(), &meta.Job{ID: 11, Payload: []byte("{")}); err == nil {
		t.Error("an unreadable payload was accepted")
	}
}
