package lifecycle

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// now is the instant every test evaluates at.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return now.AddDate(0, 0, -n) }

// image is an image named by its digest, pushed days ago.
func image(digest string, pushedDaysAgo int, tags ...string) Image {
	return Image{Digest: digest, Tags: tags, PushedAt: daysAgo(pushedDaysAgo)}
}

var (
	expire  = Action{Type: ActionExpire}
	archive = Action{Type: ActionTransition, TargetStorageClass: Archive}
)

// outcome is one expected result: digest, action, applied rule priority.
type outcome struct {
	digest string
	action Action
	rule   int
}

func (o outcome) String() string {
	a := "expire"
	if o.action.Type == ActionTransition {
		a = "archive"
	}
	return fmt.Sprintf("%s:%s@%d", o.digest, a, o.rule)
}

func outcomes(rs []Result) string {
	var b []string
	for _, r := range rs {
		b = append(b, outcome{r.Digest, r.Action, r.AppliedRulePriority}.String())
	}
	return strings.Join(b, " ")
}

func want(os ...outcome) string {
	var b []string
	for _, o := range os {
		b = append(b, o.String())
	}
	return strings.Join(b, " ")
}

func mustParse(t testing.TB, text string) *Policy {
	t.Helper()
	p, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// check evaluates the policy text and compares the outcome, in image order.
func check(t *testing.T, text string, images []Image, wanted ...outcome) {
	t.Helper()
	got := Evaluate(mustParse(t, text), images, now)
	if g, w := outcomes(got), want(wanted...); g != w {
		t.Errorf("outcome\n got: %s\nwant: %s", g, w)
	}
}
