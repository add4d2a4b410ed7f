package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Model patterns are java.util.regex patterns (Smithy's @pattern, served by
// Java frameworks) and AWS applies them to the whole value: registryId's
// "[0-9]{12}" rejects "x123456789012x". Go's regexp is RE2, so each pattern
// is translated and anchored before compiling. Differences handled:
//
//   - \uXXXX escapes (RE2 has \x{XXXX}); octal \0n, \cX and \e likewise.
//   - \s, \S, \h and \v: Java's \s includes \x0B (vertical tab), RE2's does
//     not, so \s/\S become explicit classes.
//   - "." excludes Java's line terminators (\n \r \u0085 \u2028 \u2029),
//     not just \n.
//   - \Q...\E quoting.
//   - Lookarounds, possessive quantifiers, atomic groups, backreferences,
//     class intersections and nested classes have no RE2 form: translation
//     fails (a test compiles every pattern of every embedded model), unless
//     the pattern is one of the rewrites below.
//
// Length is not the pattern's business: see checkString for how lengths are
// counted.

// matcher tests a value against one translated model pattern.
type matcher struct {
	re     *regexp.Regexp // must match the whole value
	reject *regexp.Regexp // must not match anywhere; nil if unused
}

func (p *matcher) MatchString(s string) bool {
	return p.re.MatchString(s) && (p.reject == nil || !p.reject.MatchString(s))
}

// rewrites replaces patterns RE2 cannot express with an equivalent pair of
// RE2 patterns: the value must match `match` (anchored) and must not contain
// `reject`.
var rewrites = map[string]struct{ match, reject string }{
	// IAM accountAliasType: a hyphen may not be followed by a hyphen. The
	// last character can't be a hyphen anyway, so this is "no --" on top of
	// the plain character classes.
	`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`: {
		match:  `^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`,
		reject: `--`,
	},
	// SSO Admin Duration (a permission set's SessionDuration): an ISO 8601
	// duration whose "P" is followed by a digit or by "T" and a digit.
	"(-?)P(?=\\d|T\\d)(?:(\\d+)Y)?(?:(\\d+)M)?(?:(\\d+)([DW]))?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+(?:\\.\\d+)?)S)?)?": {
		match:  `(-?)P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?`,
		reject: `^-?P(?:$|[^\dT]|T$|T[^\d])`,
	},
}

// patternCache shares one matcher per distinct pattern across a model's
// shapes (ECR uses the repository-name pattern on many shapes).
type patternCache map[string]*matcher

func (c patternCache) get(javaPattern string) (*matcher, error) {
	if m, ok := c[javaPattern]; ok {
		return m, nil
	}
	m, err := compilePattern(javaPattern)
	if err != nil {
		return nil, err
	}
	c[javaPattern] = m
	return m, nil
}

// compilePattern translates a Java pattern to RE2 and anchors it to the
// whole value.
func compilePattern(javaPattern string) (*matcher, error) {
	if rw, ok := rewrites[javaPattern]; ok {
		re, err := regexp.Compile(`^(?:` + rw.match + `)$`)
		if err != nil {
			return nil, fmt.Errorf("pattern %q rewrite: %w", javaPattern, err)
		}
		return &matcher{re: re, reject: regexp.MustCompile(rw.reject)}, nil
	}
	translated, err := translateJavaRegex(javaPattern)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", javaPattern, err)
	}
	re, err := regexp.Compile(`^(?:` + translated + `)$`)
	if err != nil {
		return nil, fmt.Errorf("pattern %q (as RE2 %q): %w", javaPattern, translated, err)
	}
	return &matcher{re: re}, nil
}

// Java's whitespace set [ \t\n\x0B\f\r] and line terminators, spelled for RE2.
const (
	javaSpace        = `\t\n\v\f\r `
	javaNotSpace     = `\x00-\x08\x0E-\x1F\x21-\x{10FFFF}`
	javaHSpace       = ` \t\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`
	javaVSpace       = `\n\v\f\r\x{85}\x{2028}\x{2029}`
	javaNotLineBreak = `[^\n\r\x{85}\x{2028}\x{2029}]`
)

// translateJavaRegex rewrites a java.util.regex pattern in RE2 syntax, or
// says why it can't.
func translateJavaRegex(p string) (string, error) {
	var out strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			n, err := translateEscape(&out, p, i, inClass)
			if err != nil {
				return "", err
			}
			i += n - 1
		case c == '[':
			if inClass {
				return "", fmt.Errorf("nested character class at %d (Java union) has no RE2 form", i)
			}
			inClass = true
			out.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				out.WriteByte('^')
				i++
			}
		case c == ']' && inClass:
			inClass = false
			out.WriteByte(c)
		case c == '&' && inClass && i+1 < len(p) && p[i+1] == '&':
			return "", fmt.Errorf("class intersection at %d has no RE2 form", i)
		case inClass:
			out.WriteByte(c)
		case c == '.':
			out.WriteString(javaNotLineBreak)
		case c == '(' && i+1 < len(p) && p[i+1] == '?':
			n, err := translateGroup(&out, p, i)
			if err != nil {
				return "", err
			}
			i += n - 1
		case c == '*' || c == '+' || c == '?' || c == '}':
			out.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '+' {
				return "", fmt.Errorf("possessive quantifier at %d has no RE2 form", i)
			}
		default:
			out.WriteByte(c)
		}
	}
	if inClass {
		return "", fmt.Errorf("unterminated character class")
	}
	return out.String(), nil
}

// translateGroup handles "(?" at p[i] and returns how many bytes it used.
func translateGroup(out *strings.Builder, p string, i int) (int, error) {
	rest := p[i+2:]
	switch {
	case strings.HasPrefix(rest, ":"):
		out.WriteString("(?:")
		return 3, nil
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"),
		strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return 0, fmt.Errorf("lookaround at %d has no RE2 form", i)
	case strings.HasPrefix(rest, ">"):
		return 0, fmt.Errorf("atomic group at %d has no RE2 form", i)
	case strings.HasPrefix(rest, "<"):
		// Named group: same syntax in RE2 (Go 1.22+).
		out.WriteString("(?<")
		return 3, nil
	}
	// Inline flags, "(?i)" or "(?i:". Java's d, u, x and U mean something
	// else or nothing in RE2 (RE2's U is "ungreedy"), so only i, m, s pass.
	end := strings.IndexAny(rest, ":)")
	if end < 0 {
		return 0, fmt.Errorf("unterminated group at %d", i)
	}
	for _, f := range rest[:end] {
		if !strings.ContainsRune("ims-", f) {
			return 0, fmt.Errorf("inline flag %q at %d has no RE2 equivalent", f, i)
		}
	}
	out.WriteString(p[i : i+2+end+1])
	return 2 + end + 1, nil
}

// translateEscape handles the backslash at p[i] and returns how many bytes
// of p it consumed.
func translateEscape(out *strings.Builder, p string, i int, inClass bool) (int, error) {
	if i+1 >= len(p) {
		return 0, fmt.Errorf("trailing backslash")
	}
	class := func(set string) {
		if inClass {
			out.WriteString(set)
		} else {
			out.WriteString("[" + set + "]")
		}
	}
	switch e := p[i+1]; e {
	case 'u':
		r, n, err := javaUnicodeEscape(p, i, inClass)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(out, `\x{%X}`, r)
		return n, nil
	case '0':
		// Octal: \0n, \0nn or \0mnn with m <= 3.
		j := i + 2
		for j < len(p) && j < i+5 && p[j] >= '0' && p[j] <= '7' {
			j++
		}
		if j == i+5 && p[i+2] > '3' {
			j--
		}
		v, err := strconv.ParseUint(p[i+2:j], 8, 32)
		if err != nil {
			return 0, fmt.Errorf("bad octal escape at %d", i)
		}
		fmt.Fprintf(out, `\x{%X}`, v)
		return j - i, nil
	case 'c':
		if i+2 >= len(p) {
			return 0, fmt.Errorf("bad control escape at %d", i)
		}
		fmt.Fprintf(out, `\x{%X}`, p[i+2]^64)
		return 3, nil
	case 'e':
		out.WriteString(`\x1B`)
		return 2, nil
	case 's':
		class(javaSpace)
		return 2, nil
	case 'S':
		class(javaNotSpace)
		return 2, nil
	case 'h':
		class(javaHSpace)
		return 2, nil
	case 'v':
		// Java 8+: vertical whitespace, not just \x0B.
		class(javaVSpace)
		return 2, nil
	case 'Q':
		end := strings.Index(p[i+2:], `\E`)
		lit := p[i+2:]
		n := len(p) - i
		if end >= 0 {
			lit = p[i+2 : i+2+end]
			n = 2 + end + 2
		}
		out.WriteString(regexp.QuoteMeta(lit))
		return n, nil
	case 'Z':
		if inClass {
			return 0, fmt.Errorf(`\Z inside a class at %d`, i)
		}
		out.WriteString(`(?:\r\n|[\n\r\x{85}\x{2028}\x{2029}])?\z`)
		return 2, nil
	case 'p', 'P':
		// \p{L}: the braces belong to the escape, or the "}" would read as
		// the end of a counted repetition (and "}+" as possessive).
		if i+2 < len(p) && p[i+2] == '{' {
			if end := strings.IndexByte(p[i+2:], '}'); end >= 0 {
				out.WriteString(p[i : i+3+end])
				return 3 + end, nil
			}
		}
		out.WriteString(p[i : i+2])
		return 2, nil
	case 'x', 'd', 'D', 'w', 'W', 't', 'n', 'r', 'f', 'a':
		// Same meaning in RE2 (Java's \w, \d and \b are ASCII-only by
		// default, like RE2's). \p{...} names RE2 doesn't know fail to
		// compile, which the model tests catch.
		out.WriteString(p[i : i+2])
		return 2, nil
	case 'b', 'B', 'A', 'z':
		if inClass {
			return 0, fmt.Errorf(`\%c inside a class at %d`, e, i)
		}
		out.WriteString(p[i : i+2])
		return 2, nil
	default:
		if e < 0x80 && !isASCIILetterOrDigit(e) {
			// An escaped punctuation character is a literal in both.
			out.WriteString(p[i : i+2])
			return 2, nil
		}
		return 0, fmt.Errorf(`escape \%c at %d has no RE2 translation`, e, i)
	}
}

// javaUnicodeEscape reads the \u escape at p[i]. Java takes exactly four hex
// digits, so "\u10000" is U+1000 followed by "0". STS models write the
// supplementary planes as "\u10000-\u10FFFF" inside a class, meaning
// U+10000–U+10FFFF; read literally that range would be "0"–U+10FF and shut
// out every emoji, which is plainly not the intent, so inside a class five
// or six hex digits that name a supplementary code point are read as one.
func javaUnicodeEscape(p string, i int, inClass bool) (rune, int, error) {
	digits := 0
	for j := i + 2; j < len(p) && digits < 6 && isHex(p[j]); j++ {
		digits++
	}
	if digits < 4 {
		return 0, 0, fmt.Errorf(`bad \u escape at %d`, i)
	}
	if inClass && digits > 4 {
		for n := digits; n > 4; n-- {
			v, _ := strconv.ParseUint(p[i+2:i+2+n], 16, 32)
			if v >= 0x10000 && v <= 0x10FFFF && (i+2+n == len(p) || !isHex(p[i+2+n])) {
				return rune(v), 2 + n, nil
			}
		}
	}
	v, _ := strconv.ParseUint(p[i+2:i+6], 16, 32)
	return rune(v), 6, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isASCIILetterOrDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
