package policy

import (
	"strings"
	"unicode/utf8"
)

// A pattern is a policy string compiled once: literal runs, the wildcards *
// and ?, and policy variables to fill in from the request. Matching walks
// the parts; no regular expression is built, at parse time or after.
type pattern struct {
	parts []part
	// lit is the whole value when it has no wildcard and no variable.
	lit   string
	exact bool
	// any is a lone "*" with wildcards on.
	any  bool
	vars bool
}

type partKind uint8

const (
	pLit partKind = iota
	pStar
	pOne
	pVar
)

type part struct {
	kind partKind
	// text is the literal, or a variable's default value.
	text       string
	key        ckey
	hasDefault bool
}

// compilePattern reads s, treating * and ? as wildcards when wild is set and
// ${…} as a policy variable when vars is set (policy language 2012-10-17).
// ${*}, ${?} and ${$} are the literal characters.
func compilePattern(s string, wild, vars bool) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, part{kind: pLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if vars && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			if end := strings.IndexByte(s[i+2:], '}'); end >= 0 {
				inner := s[i+2 : i+2+end]
				if v, ok := compileVariable(inner); ok {
					if v.kind == pLit {
						lit.WriteString(v.text)
					} else {
						flush()
						p.parts = append(p.parts, v)
						p.vars = true
					}
					i += end + 3
					continue
				}
			}
		}
		switch {
		case wild && c == '*':
			flush()
			if n := len(p.parts); n == 0 || p.parts[n-1].kind != pStar {
				p.parts = append(p.parts, part{kind: pStar})
			}
		case wild && c == '?':
			flush()
			p.parts = append(p.parts, part{kind: pOne})
		default:
			lit.WriteByte(c)
		}
		i++
	}
	flush()
	p.any = len(p.parts) == 1 && p.parts[0].kind == pStar
	p.exact = true
	for _, pt := range p.parts {
		if pt.kind != pLit {
			p.exact = false
		}
	}
	if p.exact {
		for _, pt := range p.parts {
			p.lit += pt.text
		}
	}
	return p
}

// compileVariable reads the inside of ${…}: a key, optionally followed by
// a default value in single quotes (${aws:username, 'anonymous'}).
func compileVariable(inner string) (part, bool) {
	switch strings.TrimSpace(inner) {
	case "*", "?", "$":
		return part{kind: pLit, text: strings.TrimSpace(inner)}, true
	}
	name, def, hasDef := strings.Cut(inner, ",")
	name = strings.TrimSpace(name)
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return part{}, false
		}
		def = def[1 : len(def)-1]
	}
	k, ok := compileKey(name)
	if !ok || strings.ContainsAny(name, " ${}") {
		return part{}, false
	}
	return part{kind: pVar, key: k, text: def, hasDefault: hasDef}, true
}

// resolve fills in the pattern's variables from the request, into buf when
// it is large enough. ok is false when a variable has no value and no
// default: IAM then treats the statement as not applying.
func (p *pattern) resolve(c *evalCtx, buf []part) (parts []part, ok bool) {
	if !p.vars {
		return p.parts, true
	}
	parts = buf[:0]
	for _, pt := range p.parts {
		if pt.kind == pVar {
			v, found := c.value(&pt.key)
			if !found {
				if !pt.hasDefault {
					return nil, false
				}
				v = pt.text
			}
			parts = append(parts, part{kind: pLit, text: v})
			continue
		}
		parts = append(parts, pt)
	}
	return parts, true
}

// match reports whether s matches p; valid is false when a variable could
// not be resolved.
func (p *pattern) match(c *evalCtx, s string, fold bool) (matched, valid bool) {
	if p.any {
		return true, true
	}
	if p.exact {
		if fold {
			return strings.EqualFold(s, p.lit), true
		}
		return s == p.lit, true
	}
	var buf [16]part
	parts, ok := p.resolve(c, buf[:])
	if !ok {
		return false, false
	}
	return matchParts(parts, s, fold), true
}

// matchParts is wildcard matching over compiled parts: on a mismatch it
// backs up to the last * and lets it swallow one more character, which is
// enough because earlier stars never need to give anything back.
func matchParts(parts []part, s string, fold bool) bool {
	pi, si := 0, 0
	star, starSi := -1, 0
	for {
		if pi < len(parts) {
			p := &parts[pi]
			switch p.kind {
			case pStar:
				star, starSi = pi, si
				pi++
				continue
			case pOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case pLit:
				if hasPrefix(s[si:], p.text, fold) {
					si += len(p.text)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if star < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		si, pi = starSi, star+1
	}
}

func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if fold {
		return strings.EqualFold(s[:len(prefix)], prefix)
	}
	return s[:len(prefix)] == prefix
}

// arnPattern matches ARNs as IAM does in Resource and the Arn condition
// operators: each of the six colon-separated components on its own, so a
// wildcard cannot reach across a colon, except in the last component,
// which runs to the end of the ARN.
type arnPattern struct {
	any   bool
	vars  bool
	comps [6]pattern
	// whole stands in for comps when a condition value has fewer than six
	// components: it is then matched as one string.
	whole *pattern
}

func compileARN(s string, vars bool) (arnPattern, bool) {
	if s == "*" {
		return arnPattern{any: true}, true
	}
	var ap arnPattern
	rest := s
	for i := 0; i < 5; i++ {
		c, r, found := cutColon(rest, vars)
		if !found {
			whole := compilePattern(s, true, vars)
			ap.whole = &whole
			return ap, false
		}
		ap.comps[i] = compilePattern(c, true, vars)
		rest = r
	}
	ap.comps[5] = compilePattern(rest, true, vars)
	for i := range ap.comps {
		ap.vars = ap.vars || ap.comps[i].vars
	}
	return ap, true
}

// cutColon is strings.Cut at the first colon outside a ${…} variable, so
// arn:aws:ecr:*:${aws:PrincipalAccount}:repository/* keeps its variable.
func cutColon(s string, vars bool) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ':':
			return s[:i], s[i+1:], true
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				i += end
			}
		}
	}
	return s, "", false
}

func (ap *arnPattern) hasVars() bool {
	if ap.whole != nil {
		return ap.whole.vars
	}
	return ap.vars
}

func (ap *arnPattern) match(c *evalCtx, arn string) (matched, valid bool) {
	if ap.any {
		return true, true
	}
	if ap.whole != nil {
		return ap.whole.match(c, arn, false)
	}
	var comps [6]string
	return ap.matchComps(c, &comps, splitARN(arn, &comps))
}

// matchComps matches an ARN already split by splitARN into n components.
func (ap *arnPattern) matchComps(c *evalCtx, comps *[6]string, n int) (matched, valid bool) {
	if ap.any {
		return true, true
	}
	if ap.whole != nil {
		return ap.whole.match(c, joinARN(comps, n), false)
	}
	matched, valid = true, true
	for i := 0; i < 6; i++ {
		comp := ""
		if i < n {
			comp = comps[i]
		}
		m, ok := ap.comps[i].match(c, comp, false)
		valid = valid && ok
		matched = matched && m && i < n
		// Without variables the first mismatch decides; with them every
		// component is resolved, so an unresolvable one voids the
		// statement whatever the others say.
		if !matched && !ap.vars {
			return false, true
		}
	}
	return matched && valid, valid
}

// splitARN cuts s at its first five colons; n is the number of components
// found, six for a whole ARN.
func splitARN(s string, comps *[6]string) (n int) {
	for n < 5 {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		comps[n], s = s[:i], s[i+1:]
		n++
	}
	comps[n] = s
	return n + 1
}

func joinARN(comps *[6]string, n int) string {
	return strings.Join(comps[:n], ":")
}

// actionPattern is service:Action; the service prefix and the action match
// without regard to case.
type actionPattern struct {
	any     bool
	service string
	name    pattern
}

func compileAction(s string) (actionPattern, bool) {
	if s == "*" {
		return actionPattern{any: true}, true
	}
	service, name, found := strings.Cut(s, ":")
	if !found || service == "" || name == "" {
		return actionPattern{}, false
	}
	for i := 0; i < len(service); i++ {
		c := service[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return actionPattern{}, false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?' || c == '-' || c == '_') {
			return actionPattern{}, false
		}
	}
	return actionPattern{service: service, name: compilePattern(name, true, false)}, true
}

func (a *actionPattern) match(c *evalCtx) bool {
	if a.any {
		return true
	}
	if !strings.EqualFold(a.service, c.service) {
		return false
	}
	m, _ := a.name.match(c, c.name, true)
	return m
}
