package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePublicAlias(t *testing.T) {
	for _, tc := range []struct {
		alias string
		ok    bool
	}{
		{"my-team", true},
		{"a1", true},
		{"team.images_v2", true},
		{strings.Repeat("a", 50), true},
		{"a", false},                     // too short
		{strings.Repeat("a", 51), false}, // too long
		{"My-team", false},               // upper case
		{"1team", false},                 // starts with a digit
		{"team-", false},                 // ends with a separator
		{"team--x", false},               // two separators
		{"b000000000000", false},         // a default alias's shape
		{"b00000000000", true},           // 11 digits: not one
		{"team/x", false},
	} {
		err := ValidatePublicAlias(tc.alias)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePublicAlias(%q) = %v, want ok %v", tc.alias, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrParameterInvalid) {
			t.Errorf("ValidatePublicAlias(%q): %v is not ErrParameterInvalid", tc.alias, err)
		}
	}
}
