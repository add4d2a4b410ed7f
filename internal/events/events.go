// Package events follows the registry's image events — pushes and deletes,
// written to the outbox in the transaction of the change — and reports
// each the way Amazon ECR reports it to EventBridge: an "ECR Image Action"
// event per image and tag. Today the events go to the server's log, where
// a log shipper can pick them up; a sink that sends them elsewhere plugs
// in as another Sink.
package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// Queue is the outbox queue of the image events this package reports.
const Queue = "events"

// Event is an event as EventBridge carries it.
type Event struct {
	Version    string            `json:"version"`
	ID         string            `json:"id"`
	DetailType string            `json:"detail-type"`
	Source     string            `json:"source"`
	Account    string            `json:"account"`
	Time       time.Time         `json:"time"`
	Region     string            `json:"region"`
	Resources  []string          `json:"resources"`
	Detail     ImageActionDetail `json:"detail"`
}

// ImageActionDetail is the detail of ECR's "ECR Image Action" event.
type ImageActionDetail struct {
	Result            string `json:"result"`
	RepositoryName    string `json:"repository-name"`
	ImageDigest       string `json:"image-digest,omitempty"`
	ActionType        string `json:"action-type"`
	ImageTag          string `json:"image-tag,omitempty"`
	ManifestMediaType string `json:"manifest-media-type,omitempty"`
	ArtifactMediaType string `json:"artifact-media-type,omitempty"`
}

// Sink receives the events.
type Sink interface {
	Send(ctx context.Context, e Event) error
}

// Handler is the outbox handler of Queue: it turns each job's image event
// into ECR's events and sends them to sink. An event's ID is derived from
// its job, so that a job run again sends the same IDs and a consumer can
// drop what it has seen.
func Handler(sink Sink) jobs.Handler {
	return func(ctx context.Context, j *meta.Job) error {
		var ev registry.ImageEvent
		if err := json.Unmarshal(j.Payload, &ev); err != nil {
			return jobs.Permanent(fmt.Errorf("image event job %d: %w", j.ID, err))
		}
		for i, e := range ImageActions(ev) {
			e.ID = eventID(j.ID, i)
			if err := sink.Send(ctx, e); err != nil {
				return fmt.Errorf("send image event %s: %w", e.ID, err)
			}
		}
		return nil
	}
}

// ImageActions are ECR's events for an image event: one per tag pushed or
// deleted, or one for the image when no tag is involved.
func ImageActions(ev registry.ImageEvent) []Event {
	base := Event{
		Version: "0", DetailType: "ECR Image Action", Source: "aws.ecr",
		Account: ev.Account, Time: ev.At.UTC().Truncate(time.Second), Region: ev.Region,
		Resources: []string{authz.RepositoryARN(ev.Region, ev.Account, ev.Repository)},
		Detail: ImageActionDetail{
			Result: "SUCCESS", RepositoryName: ev.Repository, ImageDigest: ev.Digest, ActionType: string(ev.Action),
			ManifestMediaType: ev.MediaType, ArtifactMediaType: ev.ArtifactType,
		},
	}
	if len(ev.Tags) == 0 {
		return []Event{base}
	}
	out := make([]Event, len(ev.Tags))
	for i, tag := range ev.Tags {
		out[i] = base
		out[i].Detail.ImageTag = tag
	}
	return out
}

// eventID is a UUID-shaped id, the same for the same job and position.
func eventID(job int64, i int) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(job, 10) + "/" + strconv.Itoa(i)))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// LogSink writes each event to a log at Info, as one record whose "event"
// attribute is the event's JSON.
type LogSink struct{ Log *slog.Logger }

// Send implements Sink.
func (s LogSink) Send(ctx context.Context, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return jobs.Permanent(err)
	}
	s.Log.InfoContext(ctx, "ECR Image Action", "action", e.Detail.ActionType, "repository", e.Detail.RepositoryName,
		"digest", e.Detail.ImageDigest, "tag", e.Detail.ImageTag, "event", json.RawMessage(b))
	return nil
}
