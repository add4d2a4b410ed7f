package sqlite

import (
	"strings"
	"testing"
)

// TestImageQueryPlans keeps ListImages on the repository's primary key and
// ManifestsReferencing on manifest_refs_ref, whatever the filter.
func TestImageQueryPlans(t *testing.T) {
	s, _ := openTemp(t)
	for _, tc := range []struct {
		name, query, index string
		args               []any
	}{
		{"ListImages/ANY", listImagesQuery, "sqlite_autoindex_manifests_1", []any{1, "", "ANY", 100}},
		{"ListImages/TAGGED", listImagesQuery, "sqlite_autoindex_manifests_1", []any{1, "sha256:x", "TAGGED", 100}},
		{"ListImages/UNTAGGED", listImagesQuery, "sqlite_autoindex_manifests_1", []any{1, "", "UNTAGGED", -1}},
		{"ManifestsReferencing", manifestsReferencingQuery, "manifest_refs_ref", []any{1, "sha256:x", "blob", 1}},
	} {
		plan := queryPlan(t, s, tc.name, tc.query, tc.args...)
		joined := strings.Join(plan, "; ")
		if strings.Contains(joined, "SCAN") || strings.Contains(joined, "AUTOMATIC") || !strings.Contains(joined, tc.index) {
			t.Errorf("%s: plan %q", tc.name, plan)
		}
	}
}
