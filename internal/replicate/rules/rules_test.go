package rules

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var self = Destination{Region: "us-east-1", RegistryID: "111111111111"}

func dest(region, account string) Destination {
	return Destination{Region: region, RegistryID: account}
}

func prefix(p string) Filter { return Filter{Filter: p, FilterType: FilterPrefixMatch} }

func TestValidate(t *testing.T) {
	west := dest("us-west-2", "111111111111")
	other := dest("us-east-1", "222222222222")
	manyDests := func(n int) []Destination {
		var ds []Destination
		for i := range n {
			ds = append(ds, dest(fmt.Sprintf("region-%d", i), "333333333333"))
		}
		return ds
	}
	manyFilters := make([]Filter, MaxFilters+1)
	for i := range manyFilters {
		manyFilters[i] = prefix(fmt.Sprintf("team%d", i))
	}
	for _, tc := range []struct {
		name string
		c    Config
		want string // part of the error; "" for none
	}{
		{"empty", Config{}, ""},
		{"cross-region and cross-account", Config{Rules: []Rule{{Destinations: []Destination{west, other}, RepositoryFilters: []Filter{prefix("prod")}}}}, ""},
		{"the same destination in two rules", Config{Rules: []Rule{{Destinations: []Destination{west}}, {Destinations: []Destination{west}}}}, ""},
		{"too many rules", Config{Rules: slices.Repeat([]Rule{{Destinations: []Destination{west}}}, MaxRules+1)}, "at most 10 rules; this one has 11"},
		{"no destination", Config{Rules: []Rule{{}}}, "rules.1.destinations' failed to satisfy constraint: 'a replication rule needs at least one destination"},
		{"to itself", Config{Rules: []Rule{{Destinations: []Destination{self}}}}, "cannot be replicated to its own registry"},
		{"twice in a rule", Config{Rules: []Rule{{Destinations: []Destination{west, west}}}}, "appears twice in the rule"},
		{"bad region", Config{Rules: []Rule{{Destinations: []Destination{dest("US_EAST", "111111111111")}}}}, "region' failed to satisfy constraint"},
		{"bad account", Config{Rules: []Rule{{Destinations: []Destination{dest("us-west-2", "12")}}}}, "registryId' failed to satisfy constraint"},
		{"25 destinations", Config{Rules: []Rule{{Destinations: manyDests(20)}, {Destinations: manyDests(25)}}}, ""},
		{"26 destinations", Config{Rules: []Rule{{Destinations: manyDests(20)}, {Destinations: manyDests(26)}}}, "at most 25 unique destinations across its rules; this one has 26"},
		{"too many filters", Config{Rules: []Rule{{Destinations: []Destination{west}, RepositoryFilters: manyFilters}}}, "at most 100 repository filters"},
		{"filter type", Config{Rules: []Rule{{Destinations: []Destination{west}, RepositoryFilters: []Filter{{Filter: "prod", FilterType: "TAG_MATCH"}}}}}, "enum value set: [PREFIX_MATCH]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.c, self)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want an error with %q", err, tc.want)
			case err != nil && !strings.HasPrefix(err.Error(), "Invalid parameter at 'replicationConfiguration"):
				t.Fatalf("Validate: %q is not in ECR's words", err)
			}
		})
	}
}

func TestDestinations(t *testing.T) {
	west := dest("us-west-2", "111111111111")
	eu := dest("eu-west-1", "111111111111")
	other := dest("us-east-1", "222222222222")
	c := Config{Rules: []Rule{
		{Destinations: []Destination{west}},
		{Destinations: []Destination{other, west}, RepositoryFilters: []Filter{prefix("prod"), prefix("team-a/")}},
		{Destinations: []Destination{eu}, RepositoryFilters: []Filter{prefix("team-a/svc")}},
	}}
	for _, tc := range []struct {
		repo string
		want []Destination
	}{
		{"dev/app", []Destination{west}},
		{"prod", []Destination{west, other}},
		{"production/app", []Destination{west, other}},
		{"team-a/svc1", []Destination{west, other, eu}},
		{"team-b/svc", []Destination{west}},
	} {
		if got := Destinations(c, tc.repo); !slices.Equal(got, tc.want) {
			t.Errorf("Destinations(%s) = %v, want %v", tc.repo, got, tc.want)
		}
	}
	if got := Destinations(Config{}, "app"); len(got) != 0 {
		t.Errorf("no rules: %v", got)
	}
}

func TestTagFilter(t *testing.T) {
	for _, tc := range []struct {
		filter  string
		tags    []string
		want    []string
		through bool
	}{
		{"*", nil, nil, true},
		{"*", []string{"dev-1"}, []string{"dev-1"}, true},
		{"release-*", nil, nil, false},
		{"release-*", []string{"dev-1", "release-1.2", "latest"}, []string{"release-1.2"}, true},
		{"release-*, latest", []string{"dev-1", "release-1.2", "latest"}, []string{"release-1.2", "latest"}, true},
		{"v*.*", []string{"v1", "v1.2"}, []string{"v1.2"}, true},
		{"prod", []string{"prod-1", "production"}, nil, false},
		{"*-rc*", []string{"1.0-rc1", "1.0"}, []string{"1.0-rc1"}, true},
		{"a,*", []string{"b"}, []string{"b"}, true}, // "*" lets everything through
	} {
		f, err := ParseTagFilter(tc.filter)
		if err != nil {
			t.Fatalf("ParseTagFilter(%q): %v", tc.filter, err)
		}
		got, through := f.Tags(tc.tags)
		if through != tc.through || !slices.Equal(got, tc.want) {
			t.Errorf("%q.Tags(%q) = %q, %v; want %q, %v", tc.filter, tc.tags, got, through, tc.want, tc.through)
		}
	}
	for _, bad := range []string{"", " ", "a,,b", "release/*", "tag with space", strings.Repeat("a", 129), strings.Repeat("a,", MaxTagPatterns) + "a"} {
		if _, err := ParseTagFilter(bad); err == nil {
			t.Errorf("ParseTagFilter(%q) accepted it", bad)
		}
	}
	if f, _ := ParseTagFilter(" release-* ,latest"); f.String() != "release-*,latest" {
		t.Errorf("String = %q", f.String())
	}
}

func FuzzMatchWildcard(f *testing.F) {
	f.Add("release-*", "release-1")
	f.Add("*a*b*c", "xxaxxbxxc")
	f.Add("**", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := matchWildcard(pattern, s)
		// A pattern without stars matches only itself.
		if !strings.Contains(pattern, "*") && got != (pattern == s) {
			t.Fatalf("matchWildcard(%q, %q) = %v", pattern, s, got)
		}
		// Every string matches itself, and "*" matches everything.
		if !strings.Contains(s, "*") && !matchWildcard(s, s) || !matchWildcard("*", s) {
			t.Fatalf("%q does not match itself or *", s)
		}
	})
}

// TestDependencies keeps the rules pure: the standard library alone.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/berth-registry/berth/internal/replicate/rules" {
			continue
		}
		if strings.Contains(strings.Split(dep, "/")[0], ".") || dep == "net/http" || dep == "database/sql" {
			t.Errorf("rules depends on %s", dep)
		}
	}
}
