package repoprefix

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		want   bool
	}{
		{"prod", true},
		{"prod/", true},
		{"prod/team", true},
		{"prod/team/", true},
		{"a.b_c__d---e/f", true},
		{"ecr-public", true},
		{"ROOT", true},
		{"root", true},
		{"", false},
		{"/", false},
		{"/prod", false},
		{"prod//team", false},
		{"prod//", false},
		{"Prod", false},
		{"ROOT/", false},
		{"ROOT/app", false},
		{"prod-", false},
		{"prod_/x", false},
		{"pro d", false},
		{"prod/*", false},
		{strings.Repeat("a", 256), true},
		{strings.Repeat("a", 257), false},
	} {
		if got := Valid(tc.prefix); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.prefix, got, tc.want)
		}
	}
}

func TestKey(t *testing.T) {
	for prefix, want := range map[string]string{
		"prod": "prod", "prod/": "prod", "prod/team/": "prod/team", "ROOT": "ROOT", "root/": "root",
	} {
		if got := Key(prefix); got != want {
			t.Errorf("Key(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		key, name string
		want      bool
	}{
		{"prod", "prod/app", true},
		{"prod", "prod/team/app", true},
		{"prod/team", "prod/team/app", true},
		// ECR assumes a '/' after every prefix.
		{"prod", "prod", false},
		{"prod", "production/app", false},
		{"prod", "prod-app", false},
		{"prod/team", "prod/teams/app", false},
		{"prod/team", "prod/app", false},
		{"app", "team/app", false},
		{"ROOT", "anything", true},
		{"ROOT", "a/b/c", true},
		{"root", "root/app", true},
		{"root", "app", false},
		{"", "app", false},
	} {
		if got := Matches(tc.key, tc.name); got != tc.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tc.key, tc.name, got, tc.want)
		}
	}
}

func TestBest(t *testing.T) {
	keys := []string{"ROOT", "prod", "prod/team", "dev", "prod/team/x"}
	for _, tc := range []struct {
		name   string
		keys   []string
		want   string
		wantOK bool
	}{
		{"prod/app", keys, "prod", true},
		{"prod/team/app", keys, "prod/team", true},
		{"prod/team/x/app", keys, "prod/team/x", true},
		{"prod/teamapp", keys, "prod", true},
		{"dev/app", keys, "dev", true},
		{"other/app", keys, "ROOT", true},
		{"prod", keys, "ROOT", true},
		{"app", keys, "ROOT", true},
		{"other/app", []string{"prod", "dev"}, "", false},
		{"prod/app", []string{"prod/team"}, "", false},
		{"prod/app", nil, "", false},
		// Order does not matter.
		{"prod/team/app", []string{"prod/team", "ROOT", "prod"}, "prod/team", true},
	} {
		got, ok := Best(tc.name, tc.keys)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Best(%q, %q) = %q, %v; want %q, %v", tc.name, tc.keys, got, ok, tc.want, tc.wantOK)
		}
	}
}

// FuzzBest checks Best against its definition: the key it picks matches
// the name, no longer key matches, and ROOT wins only when nothing else
// matches.
func FuzzBest(f *testing.F) {
	f.Add("prod/team/app", "prod,prod/team,ROOT")
	f.Add("prod", "prod,ROOT")
	f.Add("a/b", "a/,a,b")
	f.Fuzz(func(t *testing.T, name, list string) {
		var keys []string
		for _, p := range strings.Split(list, ",") {
			if Valid(p) {
				keys = append(keys, Key(p))
			}
		}
		best, ok := Best(name, keys)
		longest, root := -1, false
		for _, k := range keys {
			if k == Root {
				root = true
			} else if Matches(k, name) && len(k) > longest {
				longest = len(k)
			}
		}
		switch {
		case longest >= 0:
			if !ok || best == Root || len(best) != longest || !Matches(best, name) {
				t.Fatalf("Best(%q, %q) = %q, %v; a key of length %d matches", name, keys, best, ok, longest)
			}
		case root:
			if !ok || best != Root {
				t.Fatalf("Best(%q, %q) = %q, %v; want ROOT", name, keys, best, ok)
			}
		default:
			if ok {
				t.Fatalf("Best(%q, %q) = %q; nothing matches", name, keys, best)
			}
		}
	})
}
