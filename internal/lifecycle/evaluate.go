package lifecycle

import (
	"cmp"
	"slices"
	"time"
)

// Image is what Evaluate needs to know of one manifest in the repository.
type Image struct {
	Digest string
	Tags   []string
	// PushedAt is imagePushedAt.
	PushedAt time.Time
	// LastPulledAt is lastRecordedPullTime; zero if never pulled.
	LastPulledAt time.Time
	// LastActivatedAt is lastActivatedAt, when the image was last restored
	// from archive; zero if never.
	LastActivatedAt time.Time
	// LastArchivedAt is lastArchivedAt, when the image last moved to
	// archive; zero if never.
	LastArchivedAt time.Time
	// StorageClass is where the image is now; "" means Standard.
	StorageClass StorageClass
	// Children are the digests an image index (manifest list) lists.
	Children []string
	// Subject is the digest in the manifest's subject field: set for
	// referrers (signatures, SBOMs, attestations).
	Subject string
}

func (im *Image) class() StorageClass {
	if im.StorageClass == "" {
		return Standard
	}
	return im.StorageClass
}

// activeSince is the time a rule counts an image's age from: "Expiration is
// always ordered by pushed_at_time ... If an image was archived and then
// restored at any point in the past, the image's last_activated_at is used
// instead of pushed_at_time." We read that sentence as covering
// sinceImagePushed too, not only the order of imageCountMoreThan, so that a
// restored image is not archived again the day it comes back.
func (im *Image) activeSince() time.Time {
	if !im.LastActivatedAt.IsZero() {
		return im.LastActivatedAt
	}
	return im.PushedAt
}

// lastUse is the time sinceImagePulled counts from: "If an image was never
// pulled, the image's pushed_at_time is used instead of the
// last_recorded_pulltime. If an image was archived and then restored at any
// point in the past, but never pulled since the image was restored, the
// image's last_activated_at is used".
func (im *Image) lastUse() time.Time {
	switch {
	case !im.LastActivatedAt.IsZero() && im.LastPulledAt.Before(im.LastActivatedAt):
		return im.LastActivatedAt
	case im.LastPulledAt.IsZero():
		return im.PushedAt
	}
	return im.LastPulledAt
}

// Result is one image the policy acts on: the API's
// LifecyclePolicyPreviewResult.
type Result struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
	// StorageClass is the image's storage class before the action.
	StorageClass        StorageClass
	Action              Action
	AppliedRulePriority int
}

// Evaluate returns what the policy does to a repository's images at now, in
// the order of images; images it leaves alone are not listed. images must
// be the whole repository: which manifests are indexes' children and
// referrers' subjects is read from it. A digest listed twice counts once.
//
// It is the lifecycle evaluator of "Lifecycle policy evaluation rules":
// every rule is evaluated, then the rules are applied lowest rulePriority
// first; an image is acted on by one rule or none, and an image that meets a
// rule's tag and storage class requirements can't be acted on by a later
// rule, though later rules still count it (the outcomes of the published
// examples depend on both).
//
// Beyond the rules, images follow the manifests they belong to:
//
//   - An untagged image that an index in the repository lists is part of
//     that index's image, not an image of its own: no rule selects or counts
//     it. It is expired when every index listing it is expired, and archived
//     when none of them stays in standard storage and one is archived.
//     ("If an image is referenced by a manifest list, it cannot be expired
//     or archived without the manifest list being deleted or archived
//     first." The documents stop there: expiring the children in the same
//     pass, rather than leaving them as untagged orphans for a later run,
//     is Berth's choice.) A tagged image that an index lists is an image of
//     its own and rules select it, but it too is acted on only when no index
//     listing it stays (for expire), or stays in standard storage (for
//     archive).
//   - A referrer, a manifest with a subject, follows its subject and no rule
//     selects or counts it: "When reference artifacts are present in a
//     repository, Amazon ECR lifecycle policies automatically expire or
//     archive those artifacts within 24 hours of the deletion or archival of
//     the subject image." So a referrer is expired with its subject,
//     archived with it, and expired when its subject is not in the
//     repository (the OCI spec lets a referrer be pushed before its
//     subject; such a referrer is expired too if a run comes between the
//     two pushes). A result of this kind carries the subject's
//     AppliedRulePriority, or 0 when no rule of this evaluation acted (the
//     subject was already gone or already archived).
//
// The documents don't say how imageCountMoreThan orders images pushed at
// the same instant; Evaluate takes the one later in images as the newer.
func Evaluate(p *Policy, images []Image, now time.Time) []Result {
	if p == nil || len(images) == 0 {
		return nil
	}
	e := newEvaluation(images)
	e.applyRules(p, now)
	var out []Result
	for i := range images {
		if e.dup[i] {
			continue
		}
		f := e.resolve(i)
		if !f.acted {
			continue
		}
		im := &images[i]
		out = append(out, Result{
			Digest:              im.Digest,
			Tags:                im.Tags,
			PushedAt:            im.PushedAt,
			StorageClass:        im.class(),
			Action:              f.action,
			AppliedRulePriority: f.prio,
		})
	}
	return out
}

// fate is what becomes of one image.
type fate struct {
	acted  bool
	action Action
	prio   int
}

// end is where the image is after its fate: "" when it is gone.
func (f fate) end(im *Image) StorageClass {
	switch {
	case !f.acted:
		return im.class()
	case f.action.Type == ActionExpire:
		return ""
	}
	return f.action.TargetStorageClass
}

type evaluation struct {
	images  []Image
	index   map[string]int
	dup     []bool
	parents [][]int // indexes listing each image, in the repository
	marks   []fate  // what a rule decided, before relations are applied
	fates   []fate
	state   []uint8 // of resolve: 0 not yet, 1 under way, 2 done
}

func newEvaluation(images []Image) *evaluation {
	n := len(images)
	e := &evaluation{
		images:  images,
		index:   make(map[string]int, n),
		dup:     make([]bool, n),
		parents: make([][]int, n),
		marks:   make([]fate, n),
		fates:   make([]fate, n),
		state:   make([]uint8, n),
	}
	for i := range images {
		if _, ok := e.index[images[i].Digest]; ok {
			e.dup[i] = true
			continue
		}
		e.index[images[i].Digest] = i
	}
	for i := range images {
		if e.dup[i] {
			continue
		}
		for _, d := range images[i].Children {
			c, ok := e.index[d]
			if ok && c != i && !slices.Contains(e.parents[c], i) {
				e.parents[c] = append(e.parents[c], i)
			}
		}
	}
	return e
}

// counted reports whether rules see the image as an image of its own.
func (e *evaluation) counted(i int) bool {
	im := &e.images[i]
	return !e.dup[i] && im.Subject == "" && (len(im.Tags) > 0 || len(e.parents[i]) == 0)
}

// applyRules marks the images each rule acts on.
func (e *evaluation) applyRules(p *Policy, now time.Time) {
	rules := make([]*Rule, len(p.Rules))
	for i := range p.Rules {
		rules[i] = &p.Rules[i]
	}
	slices.SortStableFunc(rules, func(a, b *Rule) int { return cmp.Compare(a.Priority, b.Priority) })

	identified := make([]bool, len(e.images))
	var selected []int
	for _, r := range rules {
		selected = selected[:0]
		for i := range e.images {
			if e.counted(i) && e.images[i].class() == r.selects() && r.matchesTags(e.images[i].Tags) {
				selected = append(selected, i)
			}
		}
		act := func(i int) {
			// "Rules can never mark images that are marked by higher
			// priority rules, but can still identify them as if they
			// haven't been expired or archived."
			if !identified[i] {
				e.marks[i] = fate{acted: true, action: r.Action, prio: r.Priority}
			}
		}
		switch r.CountType {
		case CountImageCountMoreThan:
			// "images are sorted from youngest to oldest based on
			// pushed_at_time and then all images greater than the
			// specified count are expired or archived."
			slices.SortFunc(selected, func(a, b int) int {
				if c := e.images[b].activeSince().Compare(e.images[a].activeSince()); c != 0 {
					return c
				}
				return cmp.Compare(b, a)
			})
			if r.CountNumber >= 0 && r.CountNumber < len(selected) {
				for _, i := range selected[r.CountNumber:] {
					act(i)
				}
			}
		case CountSinceImagePushed, CountSinceImagePulled, CountSinceImageTransitioned:
			cutoff := now.UTC().AddDate(0, 0, -r.CountNumber)
			for _, i := range selected {
				if t := since(r.CountType, &e.images[i]); !t.IsZero() && t.Before(cutoff) {
					act(i)
				}
			}
		}
		for _, i := range selected {
			identified[i] = true
		}
	}
}

// since is the time an age rule measures from; zero means the rule can't
// judge the image (an archived image with no lastArchivedAt).
func since(ct CountType, im *Image) time.Time {
	switch ct {
	case CountSinceImagePushed:
		return im.activeSince()
	case CountSinceImagePulled:
		return im.lastUse()
	case CountSinceImageTransitioned:
		// "all archived images whose last_archived_at is older than the
		// specified number of days"
		return im.LastArchivedAt
	}
	return time.Time{}
}
