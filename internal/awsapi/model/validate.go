package model

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidateInput checks a request body against the operation's input shape
// the way AWS's JSON services do before the operation runs. input is the
// body decoded by encoding/json with UseNumber; nil means "{}".
//
// It returns nil when the input is acceptable, a *ValidationError when AWS
// would refuse it, and an error wrapping ErrUnknownOperation for an
// operation the model lacks. Like AWS it ignores members the model doesn't
// define and treats a JSON null as an absent member.
//
// The checks are protocol-neutral, but the types are JSON's: a caller
// validating a query-protocol request (IAM, STS) must first turn form values
// into the JSON types the model names (numbers, booleans, lists).
//
// Two passes, as on AWS: deserialisation first, where the first value of
// the wrong JSON type fails the whole request with a SerializationException;
// then constraints (required, length, pattern, enum, range), all of them
// collected.
func (m *Model) ValidateInput(op string, input map[string]any) error {
	o, ok := m.ops[op]
	if !ok {
		return fmt.Errorf("%w: %s has no operation %q", ErrUnknownOperation, m.Name, op)
	}
	if o.Input == "" {
		return nil
	}
	in := m.shapes[o.Input]
	if input == nil {
		input = map[string]any{}
	}

	var tc typeChecker
	if v := tc.structure(in, input); v != nil {
		return &ValidationError{Code: "SerializationException", Message: v.Constraint, Violations: []Violation{*v}}
	}

	w := walker{d: m.dialect}
	w.structure(in, input)
	if len(w.framework) == 0 && len(w.handler) == 0 {
		return nil
	}
	return m.dialect.newError(o, w.framework, w.handler)
}

// seg is one step of a member path; kept unformatted so that a valid
// request builds no strings.
type seg struct {
	name  string // member path name or map key
	index int    // > 0: list element, printed "<index>.member"
}

// pathStack is the current member path. The first levels live in an array
// inside the (stack-allocated) walker, because a slice field grown through
// a pointer receiver would be moved to the heap on every request.
type pathStack struct {
	fixed [16]seg
	n     int
	more  []seg // levels past len(fixed): recursive shapes only
}

func (p *pathStack) push(s seg) {
	if p.n < len(p.fixed) {
		p.fixed[p.n] = s
	} else {
		p.more = append(p.more, s)
	}
	p.n++
}

func (p *pathStack) pop() {
	p.n--
	if p.n >= len(p.fixed) {
		p.more = p.more[:len(p.more)-1]
	}
}

// last is the innermost segment; the stack must not be empty.
func (p *pathStack) last() seg {
	if p.n > len(p.fixed) {
		return p.more[len(p.more)-1]
	}
	return p.fixed[p.n-1]
}

func (p *pathStack) String() string {
	var b strings.Builder
	for i := range p.n {
		s := p.fixed[min(i, len(p.fixed)-1)]
		if i >= len(p.fixed) {
			s = p.more[i-len(p.fixed)]
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if s.index > 0 {
			b.WriteString(strconv.Itoa(s.index))
			b.WriteString(".member")
		} else {
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// walker collects constraint violations.
type walker struct {
	d         *dialect
	path      pathStack
	framework []Violation // checked by the framework (Coral)
	handler   []Violation // checked by ECR's own code; see errors.go
}

func (w *walker) structure(s *Shape, obj map[string]any) {
	for _, i := range s.v.order {
		mem := &s.Members[i]
		val := obj[mem.Name]
		w.path.push(seg{name: mem.pathName})
		switch {
		case val == nil && mem.Required:
			w.framework = append(w.framework, Violation{
				Path:       w.path.String(),
				Constraint: "Member must not be null",
				Value:      "null",
				kind:       kindRequired,
			})
		case val != nil:
			var style *handlerStyle
			if w.d.handler != nil {
				style = w.d.handler[mem.Name]
			}
			w.value(mem.target, val, style)
		}
		w.path.pop()
	}
}

// value checks one present, type-correct value. style is non-nil for
// members ECR checks in its own code.
func (w *walker) value(s *Shape, v any, style *handlerStyle) {
	sv := &s.v
	switch s.Type {
	case "string":
		str, ok := v.(string)
		if !ok {
			return
		}
		if sv.pattern != nil && !sv.pattern.MatchString(str) {
			w.add(s, v, kindPattern, sv.patternText, s.Pattern, style)
		}
		if sv.hasLength {
			// Length in Unicode code points, as Smithy's @length defines
			// it. Java's String.length() would count a character outside
			// the BMP (an emoji) as two; no model constraint here is tight
			// enough for that to matter.
			w.length(s, v, int64(utf8.RuneCountInString(str)), style)
		}
		if sv.enum != nil {
			if _, ok := sv.enum[str]; !ok {
				w.add(s, v, kindEnum, sv.enumText, "", style)
			}
		}
	case "blob":
		if str, ok := v.(string); ok && sv.hasLength {
			w.length(s, v, int64(blobLen(str)), style)
		}
	case "integer", "long":
		if !sv.hasValueRange {
			return
		}
		if n, ok := intValue(v, s.Type); ok {
			w.valueRange(s, v, func(b int64) int { return cmp.Compare(n, b) }, style)
		}
	case "float", "double":
		if !sv.hasValueRange {
			return
		}
		if f, ok := floatValue(v); ok {
			w.valueRange(s, v, func(b int64) int { return cmp.Compare(f, float64(b)) }, style)
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return
		}
		if sv.hasLength {
			w.length(s, v, int64(len(arr)), style)
		}
		w.elements(s, arr)
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		if sv.hasLength {
			w.length(s, v, int64(len(obj)), style)
		}
		w.entries(s, obj)
	case "structure":
		if obj, ok := v.(map[string]any); ok {
			w.structure(s, obj)
		}
	}
}

func (w *walker) length(s *Shape, v any, n int64, style *handlerStyle) {
	switch {
	case s.Min != nil && n < *s.Min:
		w.add(s, v, kindMinLength, s.v.minLenText, strconv.FormatInt(*s.Min, 10), style)
	case s.Max != nil && n > *s.Max:
		w.add(s, v, kindMaxLength, s.v.maxLenText, strconv.FormatInt(*s.Max, 10), style)
	}
}

// valueRange reports n below Min or above Max; cmp compares n with a bound
// exactly (int64 for integers, float64 otherwise).
func (w *walker) valueRange(s *Shape, v any, cmp func(bound int64) int, style *handlerStyle) {
	switch {
	case s.Min != nil && cmp(*s.Min) < 0:
		w.add(s, v, kindMinValue, s.v.minValText, strconv.FormatInt(*s.Min, 10), style)
	case s.Max != nil && cmp(*s.Max) > 0:
		w.add(s, v, kindMaxValue, s.v.maxValText, strconv.FormatInt(*s.Max, 10), style)
	}
}

// elements checks list elements. A list of simple values is reported once,
// at the list, when any element breaks the element shape's constraints;
// elements that are structures, lists or maps are walked at
// "<list>.<n>.member".
func (w *walker) elements(s *Shape, arr []any) {
	elem := s.v.elem
	if elem.v.simple {
		if !elem.v.hasConstraints {
			return
		}
		for _, e := range arr {
			if e != nil && !simpleOK(elem, e) {
				w.add(s, arr, kindNested, "Member must satisfy constraint: "+elem.v.nestedText, "", nil)
				return
			}
		}
		return
	}
	for i, e := range arr {
		if e == nil {
			continue
		}
		w.path.push(seg{index: i + 1})
		w.value(elem, e, nil)
		w.path.pop()
	}
}

// entries checks map keys and values: simple ones are reported once at the
// map ("Map keys must satisfy constraint: [...]", "Map value must satisfy
// constraint: [...]", as DynamoDB and Bedrock word it); complex values are
// walked at "<map>.<key>", in Java HashMap order like everything else.
func (w *walker) entries(s *Shape, obj map[string]any) {
	key, val := s.v.key, s.v.val
	if key.v.hasConstraints {
		for k := range obj {
			if !simpleOK(key, k) {
				w.add(s, obj, kindNested, "Map keys must satisfy constraint: "+key.v.nestedText, "", nil)
				break
			}
		}
	}
	if val.v.simple {
		if !val.v.hasConstraints {
			return
		}
		for _, e := range obj {
			if e != nil && !simpleOK(val, e) {
				w.add(s, obj, kindNested, "Map value must satisfy constraint: "+val.v.nestedText, "", nil)
				return
			}
		}
		return
	}
	// Sorted first: Java's insertion order is the document's, which is lost.
	for _, k := range javaHashOrdered(slices.Sorted(maps.Keys(obj))) {
		if obj[k] == nil {
			continue
		}
		w.path.push(seg{name: k})
		w.value(val, obj[k], nil)
		w.path.pop()
	}
}

// simpleOK reports whether a simple value meets all of its shape's
// constraints. It mirrors value() without recording anything, so checking
// a valid list allocates nothing.
func simpleOK(s *Shape, v any) bool {
	sv := &s.v
	inLength := func(n int64) bool {
		return (s.Min == nil || n >= *s.Min) && (s.Max == nil || n <= *s.Max)
	}
	switch s.Type {
	case "string":
		str, _ := v.(string)
		if sv.pattern != nil && !sv.pattern.MatchString(str) {
			return false
		}
		if sv.hasLength && !inLength(int64(utf8.RuneCountInString(str))) {
			return false
		}
		if sv.enum != nil {
			_, ok := sv.enum[str]
			return ok
		}
	case "blob":
		str, _ := v.(string)
		return !sv.hasLength || inLength(int64(blobLen(str)))
	case "integer", "long":
		if n, ok := intValue(v, s.Type); ok && sv.hasValueRange {
			return inLength(n)
		}
	case "float", "double":
		if f, ok := floatValue(v); ok && sv.hasValueRange {
			return (s.Min == nil || f >= float64(*s.Min)) && (s.Max == nil || f <= float64(*s.Max))
		}
	}
	return true
}

// add records a violation at the current path.
func (w *walker) add(s *Shape, v any, kind violationKind, text, arg string, style *handlerStyle) {
	viol := Violation{
		Path:       w.path.String(),
		Constraint: text,
		Sensitive:  s.Sensitive,
		kind:       kind,
		arg:        arg,
		style:      style,
	}
	if !s.Sensitive {
		viol.Value = render(s, v)
	}
	if style != nil {
		viol.member = w.path.last().name
		w.handler = append(w.handler, viol)
		return
	}
	w.framework = append(w.framework, viol)
}
