// Package events follows the registry's image events — pushes and deletes,
// written to the outbox in the transaction of the change — and finished
// image scans, written with the scan, and reports each the way Amazon ECR
// reports it to EventBridge: an "ECR Image Action" event per image and
// tag, an "ECR Image Scan" event per repository. Today the events go to the server's log, where
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
	"github.com/berth-registry/berth/internal/scan"
)

// Queue is the outbox queue of the image events this package reports.
const Queue = "events"

// ScanQueue is the outbox queue of the finished scans this package
// reports (a scan.Options.EventQueues entry).
const ScanQueue = "scan-events"

// Event is an event as EventBridge carries it.
type Event struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	// Detail is an ImageActionDetail or an ImageScanDetail.
	Detail any `json:"detail"`
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

// ImageScanDetail is the detail of ECR's "ECR Image Scan" event.
type ImageScanDetail struct {
	ScanStatus            string         `json:"scan-status"`
	RepositoryName        string         `json:"repository-name"`
	FindingSeverityCounts map[string]int `json:"finding-severity-counts"`
	ImageDigest           string         `json:"image-digest"`
	ImageTags             []string       `json:"image-tags"`
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

// ScanHandler is the outbox handler of ScanQueue: each job's finished scan
// becomes ECR's events, sent to sink, with IDs derived from the job as
// Handler's are.
func ScanHandler(sink Sink) jobs.Handler {
	return func(ctx context.Context, j *meta.Job) error {
		var ev scan.Event
		if err := json.Unmarshal(j.Payload, &ev); err != nil {
			return jobs.Permanent(fmt.Errorf("scan event job %d: %w", j.ID, err))
		}
		for i, e := range ImageScans(ev) {
			e.ID = eventID(j.ID, i)
			if err := sink.Send(ctx, e); err != nil {
				return fmt.Errorf("send scan event %s: %w", e.ID, err)
			}
		}
		return nil
	}
}

// ImageScans are ECR's events for a finished scan: one per repository
// whose image it is, with the image's tags there.
func ImageScans(ev scan.Event) []Event {
	out := make([]Event, len(ev.Repositories))
	for i, r := range ev.Repositories {
		counts := ev.SeverityCounts
		if counts == nil {
			counts = map[string]int{}
		}
		tags := r.Tags
		if tags == nil {
			tags = []string{}
		}
		out[i] = Event{
			Version: "0", DetailType: "ECR Image Scan", Source: "aws.ecr",
			Account: r.Account, Time: ev.CompletedAt.UTC().Truncate(time.Second), Region: r.Region,
			Resources: []string{authz.RepositoryARN(r.Region, r.Account, r.Name)},
			Detail: ImageScanDetail{ScanStatus: string(ev.Status), RepositoryName: r.Name, FindingSeverityCounts: counts,
				ImageDigest: ev.Digest, ImageTags: tags},
		}
	}
	return out
}

// ImageActions are ECR's events for an image event: one per tag pushed or
// deleted, or one for the image when no tag is involved.
func ImageActions(ev registry.ImageEvent) []Event {
	event := func(tag string) Event {
		return Event{
			Version: "0", DetailType: "ECR Image Action", Source: "aws.ecr",
			Account: ev.Account, Time: ev.At.UTC().Truncate(time.Second), Region: ev.Region,
			Resources: []string{authz.RepositoryARN(ev.Region, ev.Account, ev.Repository)},
			Detail: ImageActionDetail{
				Result: "SUCCESS", RepositoryName: ev.Repository, ImageDigest: ev.Digest, ActionType: string(ev.Action),
				ImageTag: tag, ManifestMediaType: ev.MediaType, ArtifactMediaType: ev.ArtifactType,
			},
		}
	}
	if len(ev.Tags) == 0 {
		return []Event{event("")}
	}
	out := make([]Event, len(ev.Tags))
	for i, tag := range ev.Tags {
		out[i] = event(tag)
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
	switch d := e.Detail.(type) {
	case ImageActionDetail:
		s.Log.InfoContext(ctx, e.DetailType, "action", d.ActionType, "repository", d.RepositoryName,
			"digest", d.ImageDigest, "tag", d.ImageTag, "event", json.RawMessage(b))
	case ImageScanDetail:
		s.Log.InfoContext(ctx, e.DetailType, "status", d.ScanStatus, "repository", d.RepositoryName,
			"digest", d.ImageDigest, "findings", d.FindingSeverityCounts, "event", json.RawMessage(b))
	default:
		s.Log.InfoContext(ctx, e.DetailType, "event", json.RawMessage(b))
	}
	return nil
}
