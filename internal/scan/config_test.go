package scan

import (
	"errors"
	"slices"
	"testing"
)

func TestFilterMatches(t *testing.T) {
	tests := []struct {
		filter, name string
		want         bool
	}{
		{"*", "app", true},
		{"*", "team/app", true},
		{"prod-*", "prod-api", true},
		{"prod-*", "dev-api", false},
		{"team/*", "team/a/b", true},
		{"*-api", "prod-api", true},
		{"*-api", "prod-api-v2", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false},
		{"app", "app", true},
		{"app", "app2", false},
	}
	for _, tt := range tests {
		if got := (Filter{Filter: tt.filter, FilterType: FilterWildcard}).matches(tt.name); got != tt.want {
			t.Errorf("filter %q on %q: %v, want %v", tt.filter, tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	star := []Filter{{Filter: "*", FilterType: FilterWildcard}}
	tests := []struct {
		name string
		cfg  RegistryConfig
		ok   bool
	}{
		{"no rules", RegistryConfig{ScanType: ScanTypeBasic}, true},
		{"on push and continuous", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, star}, {FrequencyContinuous, star}}}, true},
		{"enhanced", RegistryConfig{ScanType: "ENHANCED"}, false},
		{"unknown type", RegistryConfig{ScanType: "DEEP"}, false},
		{"three rules", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, star}, {FrequencyContinuous, star}, {FrequencyManual, star}}}, false},
		{"twice the same frequency", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, star}, {FrequencyOnPush, star}}}, false},
		{"unknown frequency", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{"HOURLY", star}}}, false},
		{"no filters", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, nil}}}, false},
		{"not a wildcard", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, []Filter{{Filter: "*", FilterType: "REGEX"}}}}}, false},
		{"question mark", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, []Filter{{Filter: "a?", FilterType: FilterWildcard}}}}}, false},
		{"empty filter", RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyOnPush, []Filter{{Filter: "", FilterType: FilterWildcard}}}}}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrConfigInvalid) {
			t.Errorf("%s: %v is not ErrConfigInvalid", tt.name, err)
		}
	}
}

func TestRepositoryConfig(t *testing.T) {
	cfg := &RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{
		{FrequencyOnPush, []Filter{{Filter: "*", FilterType: FilterWildcard}}},
		{FrequencyContinuous, []Filter{{Filter: "prod-*", FilterType: FilterWildcard}, {Filter: "*-critical", FilterType: FilterWildcard}}},
	}}
	tests := []struct {
		repo       string
		scanOnPush bool
		want       string
		applied    []string
	}{
		{"dev-api", false, FrequencyOnPush, []string{"*"}},
		{"prod-api", false, FrequencyContinuous, []string{"prod-*"}},
		{"prod-critical", false, FrequencyContinuous, []string{"prod-*", "*-critical"}},
	}
	for _, tt := range tests {
		got := cfg.repositoryConfig(tt.repo, tt.scanOnPush)
		var applied []string
		for _, f := range got.AppliedFilters {
			applied = append(applied, f.Filter)
		}
		if got.ScanFrequency != tt.want || !slices.Equal(applied, tt.applied) || !got.ScanOnPush {
			t.Errorf("%s: %+v, want %s with filters %v", tt.repo, got, tt.want, tt.applied)
		}
	}
	// Without rules, the repository's own scanOnPush decides.
	none := defaultRegistryConfig()
	if got := none.repositoryConfig("app", true); got.ScanFrequency != FrequencyOnPush || len(got.AppliedFilters) != 0 {
		t.Errorf("scanOnPush without rules: %+v", got)
	}
	if got := none.repositoryConfig("app", false); got.ScanFrequency != FrequencyManual || got.ScanOnPush {
		t.Errorf("nothing: %+v", got)
	}
	// A MANUAL rule does not take a repository's scanOnPush away.
	manual := &RegistryConfig{ScanType: ScanTypeBasic, Rules: []Rule{{FrequencyManual, []Filter{{Filter: "*", FilterType: FilterWildcard}}}}}
	if got := manual.repositoryConfig("app", true); got.ScanFrequency != FrequencyOnPush {
		t.Errorf("MANUAL rule over scanOnPush: %+v", got)
	}
}
