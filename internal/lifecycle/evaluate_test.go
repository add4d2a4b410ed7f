package lifecycle

import (
	"reflect"
	"testing"
	"time"
)

// index is an image index listing children.
func index(digest string, pushedDaysAgo int, children []string, tags ...string) Image {
	im := image(digest, pushedDaysAgo, tags...)
	im.Children = children
	return im
}

// referrer is a manifest whose subject is subject.
func referrer(digest string, pushedDaysAgo int, subject string) Image {
	im := image(digest, pushedDaysAgo)
	im.Subject = subject
	return im
}

func archived(im Image, daysInArchive int) Image {
	im.StorageClass, im.LastArchivedAt = Archive, daysAgo(daysInArchive)
	return im
}

const (
	keepOneUntagged = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	untaggedAfter7  = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}`
	keepOneRelease  = `{"rules":[
		{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}`
	archiveOldReleases = `{"rules":[{"rulePriority":4,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}]}`
)

func TestIndexChildren(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		images []Image
		want   []outcome
	}{
		{
			// The platform images of a live multi-arch image are untagged and
			// old, but they are part of the index, not images of their own.
			name:   "children of a surviving index are kept",
			policy: untaggedAfter7,
			images: []Image{
				index("idx", 30, []string{"amd64", "arm64"}, "latest"),
				image("amd64", 30), image("arm64", 30),
				image("dangling", 30),
			},
			want: []outcome{{"dangling", expire, 1}},
		},
		{
			// Nor are they counted: "keep one untagged image" keeps the one
			// untagged image of its own, not a platform image.
			name:   "children are not counted",
			policy: keepOneUntagged,
			images: []Image{
				image("old-untagged", 10),
				image("new-untagged", 5),
				index("idx", 1, []string{"amd64", "arm64"}, "latest"),
				image("amd64", 1), image("arm64", 1),
			},
			want: []outcome{{"old-untagged", expire, 1}},
		},
		{
			name:   "children expire with their index",
			policy: keepOneRelease,
			images: []Image{
				index("v1", 20, []string{"v1-amd64", "v1-arm64"}, "v1"),
				image("v1-amd64", 20), image("v1-arm64", 20),
				index("v2", 1, []string{"v2-amd64", "v2-arm64"}, "v2"),
				image("v2-amd64", 1), image("v2-arm64", 1),
			},
			want: []outcome{{"v1", expire, 1}, {"v1-amd64", expire, 1}, {"v1-arm64", expire, 1}},
		},
		{
			name:   "a child another surviving index lists is kept",
			policy: keepOneRelease,
			images: []Image{
				index("v1", 20, []string{"shared", "v1-arm64"}, "v1"),
				index("v2", 1, []string{"shared", "v2-arm64"}, "v2"),
				image("shared", 20), image("v1-arm64", 20), image("v2-arm64", 1),
			},
			want: []outcome{{"v1", expire, 1}, {"v1-arm64", expire, 1}},
		},
		{
			name:   "a child goes when every index listing it goes",
			policy: keepOneRelease,
			images: []Image{
				index("v1", 20, []string{"shared"}, "v1"),
				index("v2", 10, []string{"shared"}, "v2"),
				index("v3", 1, nil, "v3"),
				image("shared", 20),
			},
			want: []outcome{{"v1", expire, 1}, {"v2", expire, 1}, {"shared", expire, 1}},
		},
		{
			name:   "children are archived with their index",
			policy: archiveOldReleases,
			images: []Image{
				index("v1", 40, []string{"v1-amd64"}, "v1"),
				image("v1-amd64", 40),
			},
			want: []outcome{{"v1", archive, 4}, {"v1-amd64", archive, 4}},
		},
		{
			// A tagged platform image is an image of its own: its rule
			// counts it, but it can't go while the index listing it stays.
			name:   "a tagged child waits for its index",
			policy: keepOneRelease,
			images: []Image{
				index("idx", 1, []string{"v1-amd64"}, "latest"),
				image("v1-amd64", 20, "v1-amd64"),
				image("v2", 2, "v2"),
			},
			want: nil,
		},
		{
			name:   "a tagged child stays when its index goes",
			policy: keepOneRelease,
			images: []Image{
				index("v1", 20, []string{"amd64"}, "v1"),
				image("amd64", 20, "amd64"),
				index("v2", 1, nil, "v2"),
			},
			want: []outcome{{"v1", expire, 1}},
		},
		{
			// Once its index is gone a former child is an ordinary untagged
			// image.
			name:   "an orphaned child is an untagged image",
			policy: untaggedAfter7,
			images: []Image{
				image("orphan", 30),
				index("idx", 1, []string{"not-in-repository"}, "latest"),
			},
			want: []outcome{{"orphan", expire, 1}},
		},
		{
			name:   "nested indexes",
			policy: keepOneRelease,
			images: []Image{
				index("v1", 20, []string{"inner"}, "v1"),
				index("inner", 20, []string{"leaf"}),
				image("leaf", 20),
				index("v2", 1, nil, "v2"),
			},
			want: []outcome{{"v1", expire, 1}, {"inner", expire, 1}, {"leaf", expire, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.policy, tc.images, tc.want...) })
	}
}

func TestReferrers(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		images []Image
		want   []outcome
	}{
		{
			name:   "a signature expires with its subject",
			policy: keepOneRelease,
			images: []Image{
				image("v1", 20, "v1"),
				referrer("v1-sig", 20, "v1"),
				image("v2", 1, "v2"),
				referrer("v2-sig", 1, "v2"),
			},
			want: []outcome{{"v1", expire, 1}, {"v1-sig", expire, 1}},
		},
		{
			// Referrers are untagged, old and many; they are not images of
			// their own, so an untagged rule neither counts nor expires them.
			name:   "referrers are not counted or selected",
			policy: keepOneUntagged,
			images: []Image{
				image("build-1", 10),
				image("build-2", 5),
				referrer("build-2-sbom", 4, "build-2"),
				referrer("build-2-sig", 3, "build-2"),
			},
			want: []outcome{{"build-1", expire, 1}},
		},
		{
			name:   "a referrer is archived with its subject",
			policy: archiveOldReleases,
			images: []Image{
				image("v1", 40, "v1"),
				referrer("v1-sbom", 40, "v1"),
			},
			want: []outcome{{"v1", archive, 4}, {"v1-sbom", archive, 4}},
		},
		{
			// "within 24 hours of the deletion ... of the subject image"
			name:   "a referrer whose subject is gone expires",
			policy: keepOneRelease,
			images: []Image{
				image("v2", 1, "v2"),
				referrer("orphan-sig", 1, "deleted-subject"),
			},
			want: []outcome{{"orphan-sig", expire, 0}},
		},
		{
			name:   "a referrer of an archived subject is archived",
			policy: keepOneRelease,
			images: []Image{
				archived(image("v1", 200, "v1"), 100),
				referrer("v1-sig", 1, "v1"),
			},
			want: []outcome{{"v1-sig", archive, 0}},
		},
		{
			name:   "a signature of an SBOM goes with the SBOM's subject",
			policy: keepOneRelease,
			images: []Image{
				image("v1", 20, "v1"),
				referrer("v1-sbom", 20, "v1"),
				referrer("v1-sbom-sig", 20, "v1-sbom"),
				image("v2", 1, "v2"),
			},
			want: []outcome{{"v1", expire, 1}, {"v1-sbom", expire, 1}, {"v1-sbom-sig", expire, 1}},
		},
		{
			name:   "a referrer of a platform image goes with the index",
			policy: keepOneRelease,
			images: []Image{
				index("v1", 20, []string{"amd64"}, "v1"),
				image("amd64", 20),
				referrer("amd64-provenance", 20, "amd64"),
				index("v2", 1, nil, "v2"),
			},
			want: []outcome{{"v1", expire, 1}, {"amd64", expire, 1}, {"amd64-provenance", expire, 1}},
		},
		{
			name:   "a referrer of a kept subject stays",
			policy: untaggedAfter7,
			images: []Image{
				image("v1", 90, "v1"),
				referrer("v1-sig", 90, "v1"),
			},
			want: nil,
		},
		{
			name:   "a manifest that is its own subject is left alone",
			policy: untaggedAfter7,
			images: []Image{referrer("loop", 90, "loop")},
			want:   nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.policy, tc.images, tc.want...) })
	}
}

func TestAgeBoundaries(t *testing.T) {
	// "older than the specified number of days": exactly N days is not.
	exactly := image("exactly-7-days", 7)
	justOver := Image{Digest: "7-days-and-a-second", PushedAt: daysAgo(7).Add(-time.Second)}
	future := Image{Digest: "pushed-in-the-future", PushedAt: now.Add(time.Hour)}
	check(t, untaggedAfter7, []Image{exactly, justOver, future}, outcome{"7-days-and-a-second", expire, 1})
}

func TestRestoredImageCountsFromRestore(t *testing.T) {
	restored := image("restored", 100)
	restored.LastActivatedAt = daysAgo(2)
	// "If an image was archived and then restored at any point in the past,
	// the image's last_activated_at is used instead of pushed_at_time."
	check(t, untaggedAfter7, []Image{restored, image("old", 8)}, outcome{"old", expire, 1})
	check(t, keepOneUntagged, []Image{restored, image("old", 8)}, outcome{"old", expire, 1})
}

func TestArchivedWithoutArchiveTimeIsNotJudged(t *testing.T) {
	const p = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}`
	unknown := image("no-archive-time", 400)
	unknown.StorageClass = Archive
	check(t, p, []Image{unknown, archived(image("archived", 400), 91)}, outcome{"archived", expire, 1})
}

// Rules apply by rulePriority whatever their order in the text.
func TestRuleOrderInTextDoesNotMatter(t *testing.T) {
	images := multipleRulesRepository()
	inOrder := `{"rules":[
		{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["beta*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	reversed := `{"rules":[
		{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["beta*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	a := Evaluate(mustParse(t, inOrder), images, now)
	b := Evaluate(mustParse(t, reversed), images, now)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("order of rules changed the outcome:\n%s\n%s", outcomes(a), outcomes(b))
	}
}

func TestResultFields(t *testing.T) {
	im := image("sha256:aa", 40, "v1", "stable")
	got := Evaluate(mustParse(t, archiveOldReleases), []Image{im, im}, now)
	want := []Result{{
		Digest: "sha256:aa", Tags: []string{"v1", "stable"}, PushedAt: daysAgo(40), StorageClass: Standard,
		Action: Action{Type: ActionTransition, TargetStorageClass: Archive}, AppliedRulePriority: 4,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if Evaluate(nil, []Image{im}, now) != nil || Evaluate(mustParse(t, archiveOldReleases), nil, now) != nil {
		t.Error("nothing to evaluate gave results")
	}
}

func TestSummarize(t *testing.T) {
	const p = `{"rules":[
		{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}},
		{"rulePriority":2,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}]}`
	results := Evaluate(mustParse(t, p), []Image{
		image("u1", 10), image("u2", 8), image("u3", 1),
		image("t1", 40, "a"), image("t2", 50, "b"), image("t3", 5, "c"),
	}, now)
	got := Summarize(results)
	want := Summary{ExpiringImageTotalCount: 2, TransitioningImageTotalCounts: []TransitionCount{{Archive, 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if s := Summarize(Evaluate(mustParse(t, untaggedAfter7), []Image{image("u", 9)}, now)); s.TransitioningImageTotalCounts != nil || s.ExpiringImageTotalCount != 1 {
		t.Errorf("expire-only summary: %+v", s)
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, tag string
		want         bool
	}{
		// "if a filter of prod* is applied, it would match image-tags whose
		// name begins with prod such as prod, prod1, or production-team1.
		// Similarly, if a filter of *prod* is applied, it would match
		// image-tags whose name contains prod such as repo-production or
		// prod-team."
		{"prod*", "prod", true},
		{"prod*", "prod1", true},
		{"prod*", "production-team1", true},
		{"prod*", "my-prod", false},
		{"*prod*", "repo-production", true},
		{"*prod*", "prod-team", true},
		{"*prod*", "prd", false},
		{"latest", "latest", true},
		{"latest", "latest-1", false},
		{"*", "anything", true},
		{"*-sha-*", "web-sha-abc", true},
		{"*-sha-*", "web-sha", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*test*1*2*3", "my-test-1-2-3", true},
		{"*test*1*2*3", "my-test-3-2-1", false},
		{"test*1*2*3*", "test123", true},
	}
	for _, tc := range tests {
		if got := matchPattern(tc.tag, tc.pattern); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tc.tag, tc.pattern, got, tc.want)
		}
	}
}

func TestTagFiltersMatchAll(t *testing.T) {
	r := Rule{TagStatus: TagStatusTagged, TagPrefixList: []string{"prod", "beta"}}
	for _, tc := range []struct {
		tags []string
		want bool
	}{
		{[]string{"prod-1", "beta-1"}, true},
		{[]string{"prod-1"}, false},
		{[]string{"beta-1", "x", "prod"}, true},
		{nil, false},
	} {
		if got := r.matchesTags(tc.tags); got != tc.want {
			t.Errorf("%v: got %v", tc.tags, got)
		}
	}
}
