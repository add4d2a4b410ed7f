package model

import (
	"strings"
	"testing"
)

// Every pattern of every embedded model must translate and compile, or the
// model would fail to load in production; a botocore refresh that adds a
// construct RE2 lacks shows up here first.
func TestAllModelPatternsCompile(t *testing.T) {
	for _, svc := range Services() {
		t.Run(svc, func(t *testing.T) {
			m := mustService(t, svc)
			n := 0
			for _, name := range m.Shapes() {
				s, _ := m.Shape(name)
				if s.Pattern == "" {
					continue
				}
				n++
				if _, err := compilePattern(s.Pattern); err != nil {
					t.Errorf("shape %s: %v", name, err)
				}
				if s.v.pattern == nil {
					t.Errorf("shape %s: pattern not compiled at load", name)
				}
			}
			// The SSO portal's and OIDC's models constrain lengths and
			// enums only.
			if n == 0 && svc != "sso" && svc != "sso-oidc" {
				t.Error("no patterns found")
			}
		})
	}
}

func TestPatternSemantics(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		reject  []string
	}{
		{pattern: "(-?)P(?=\\d|T\\d)(?:(\\d+)Y)?(?:(\\d+)M)?(?:(\\d+)([DW]))?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+(?:\\.\\d+)?)S)?)?",
			match: []string{"PT1H", "PT12H", "P1D", "PT30M", "-PT1H"}, reject: []string{"P", "PT", "PTH", "1H", "PT1H "}},
		{pattern: `\p{L}+(?:\.\p{L}+){0,2}`, match: []string{"name.givenName", "Émile"}, reject: []string{"a..b", "a1"}},
		// Anchored: AWS applies the pattern to the whole value.
		{`[0-9]{12}`, []string{"123456789012"}, []string{"x123456789012x", "1234567890123", ""}},
		{`^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+`,
			[]string{"", "arn:aws:kms:us-east-1:123456789012:key/abc-1"}, []string{"x", "arn:aws:kms:us-east-1:123456789012:key/abc!"}},
		{`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`,
			[]string{"team/app", "a__b", "a---b", "a.b/c_d"}, []string{"Bad_Name!", "a___b", "_a", "a/", "A"}},
		{`[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+`, []string{"sha256:abcDEF0"}, []string{"sha256", "sha256:xyz"}},
		// Java's \s includes \x0B; RE2's does not.
		{`^\S+$`, []string{"abc"}, []string{"a b", "a\vb", "a\tb", ""}},
		{`[\S]+`, []string{"abc"}, []string{"a\vb"}},
		// \uXXXX, and STS's supplementary-plane range.
		{`[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`,
			[]string{"arn:aws:iam::123456789012:role/x", "é", "😀"}, []string{"\x01", "\x7f"}},
		{`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, []string{"/", "/a/b/"}, []string{"a", "/a"}},
		// Outside a class Java reads four hex digits only: U+1000 then "0".
		{`\u10000`, []string{"\u10000"}, []string{"\U00010000"}},
		{`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, []string{"Ünïcode 123 _.:/=+-@", ""}, []string{"a!b"}},
		{`[\w+=,.@-]+`, []string{"a_b+c=d,e.f@g-h"}, []string{"é", "a b"}},
		// "." stops at every Java line terminator.
		{`a.b`, []string{"a-b"}, []string{"a\nb", "a\rb", "a\u2028b"}},
		// Lookahead, rewritten: no "--".
		{`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`, []string{"my-alias", "abc", "a-b-c"},
			[]string{"a--b", "-ab", "ab-", "ab", "A-b", strings.Repeat("a", 64)}},
		{`\Qa.b\E+`, []string{"a.b", "a.bbb"}, []string{"axb"}},
		{`(?i)abc`, []string{"ABC"}, []string{"abd"}},
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Errorf("compilePattern(%q): %v", tt.pattern, err)
			continue
		}
		for _, s := range tt.match {
			if !p.MatchString(s) {
				t.Errorf("%q should match %q", tt.pattern, s)
			}
		}
		for _, s := range tt.reject {
			if p.MatchString(s) {
				t.Errorf("%q should not match %q", tt.pattern, s)
			}
		}
	}
}

func TestPatternUntranslatable(t *testing.T) {
	for _, p := range []string{
		`a(?=b)`, `a(?!b)`, `(?<=a)b`, `(?<!a)b`, // lookarounds
		`a++`, `a*+`, `a?+`, `a{2}+`, // possessive
		`(?>ab)`,            // atomic group
		`[a-z&&[^b]]`,       // intersection
		`[a[bc]]`,           // union
		`(a)\1`,             // backreference
		`(?x)a b`,           // comments flag
		`(?U)\w`,            // UNICODE_CHARACTER_CLASS, not RE2's ungreedy
		`[a-z`,              // unterminated
		`\`,                 // trailing backslash
		`\p{javaLowerCase}`, // Java-only property
	} {
		if _, err := compilePattern(p); err == nil {
			t.Errorf("compilePattern(%q) succeeded; want an error", p)
		}
	}
}

func TestTranslateJavaRegex(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[0-9]{12}`, `[0-9]{12}`},
		{`\u0041`, `\x{41}`},
		{`[\u0020-\u00FF]+`, `[\x{20}-\x{FF}]+`},
		{`\s`, `[\t\n\v\f\r ]`},
		{`[\s,]`, `[\t\n\v\f\r ,]`},
		{`\0101`, `\x{41}`},
		{`\cA`, `\x{1}`},
		{`a\/b`, `a\/b`},
	}
	for _, tt := range tests {
		got, err := translateJavaRegex(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("translateJavaRegex(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
