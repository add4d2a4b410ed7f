package lifecycle

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics, refuses only with a *ValidationError, and
// a policy it accepts validates again, survives a round trip through its
// JSON, and evaluates without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		keepOneUntagged, untaggedAfter7, keepOneRelease, archiveOldReleases,
		policy(rule(1, `"tagStatus":"tagged","tagPatternList":["*a*b*c*","x"],"countType":"imageCountMoreThan","countNumber":2`, archiveAction), rule(2, archivedAge, expireAction)),
		policy(rule(1, `"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90`, archiveAction)),
		`{"rules":[{"rulePriority":1,"description":"\u00e9<>&","selection":{"tagStatus":"tagged","tagPrefixList":["p"],"countType":"sinceImagePushed","countUnit":"days","countNumber":2147483647},"action":{"type":"expire"}}]}`,
		`{"rules":[]}`, `null`, `{"rules":[null]}`, `{"rules":[{"rulePriority":1e3}]}`,
	} {
		f.Add(s)
	}
	images := []Image{
		index("idx", 40, []string{"a", "b", "idx"}, "v1"),
		image("a", 40), image("b", 10, "b1"),
		referrer("sig", 40, "idx"), referrer("orphan", 1, "gone"),
		archived(image("old", 500, "x"), 400),
		image("u", 3), image("p", 100, "prod"),
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %T %v is not a *ValidationError", err, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if utf8.RuneCount(b) <= MaxPolicyLength {
			again, err := Parse(string(b))
			if err != nil {
				t.Fatalf("marshalled policy %s does not parse: %v", b, err)
			}
			if !reflect.DeepEqual(p, again) {
				t.Fatalf("round trip changed the policy:\n%+v\n%+v", p, again)
			}
		}
		Summarize(Evaluate(p, images, now))
	})
}
