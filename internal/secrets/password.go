package secrets

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// PasswordSpec is GetRandomPassword's request.
type PasswordSpec struct {
	// Length is the password's length; 0 means 32, Secrets Manager's
	// default.
	Length                  int
	ExcludeCharacters       string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType bool
}

// The character classes Secrets Manager draws from; punctuation is
// ASCII's.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// RandomPassword makes a password from crypto/rand as spec says.
func RandomPassword(spec PasswordSpec) (string, error) {
	n := spec.Length
	if n == 0 {
		n = 32
	}
	drop := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(spec.ExcludeCharacters, r) {
				return -1
			}
			return r
		}, set)
	}
	var classes []string
	for _, c := range []struct {
		set      string
		excluded bool
	}{{lowercase, spec.ExcludeLowercase}, {uppercase, spec.ExcludeUppercase}, {digits, spec.ExcludeNumbers},
		{punctuation, spec.ExcludePunctuation}, {" ", !spec.IncludeSpace}} {
		if set := drop(c.set); !c.excluded && set != "" {
			classes = append(classes, set)
		}
	}
	if len(classes) == 0 {
		return "", errorf(ErrInvalidParameter, "The password can't be made: every character is excluded.")
	}
	if spec.RequireEachIncludedType && n < len(classes) {
		return "", errorf(ErrInvalidParameter, "The password length is too short to include a character of every type required.")
	}
	all := strings.Join(classes, "")
	pick := func(set string) byte {
		i, _ := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		return set[i.Int64()]
	}
	for {
		pw := make([]byte, n)
		for i := range pw {
			pw[i] = pick(all)
		}
		if !spec.RequireEachIncludedType || hasEach(pw, classes) {
			return string(pw), nil
		}
	}
}

func hasEach(pw []byte, classes []string) bool {
	for _, c := range classes {
		if !strings.ContainsAny(string(pw), c) {
			return false
		}
	}
	return true
}
