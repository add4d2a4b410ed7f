package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// strList is an element written as one string or as an array of strings;
// single remembers which, so MarshalJSON writes it back the same way.
type strList struct {
	vals   []string
	single bool
}

// statement is one compiled statement.
type statement struct {
	sid    string
	hasSid bool
	deny   bool

	principal    *principals
	notPrincipal bool

	action    strList
	actions   []actionPattern
	notAction bool

	resource     strList
	resources    []arnPattern
	notResource  bool
	hasResource  bool
	resourceVars bool

	// conds are sorted by operator, then key.
	conds []*condition
}

var (
	documentElements  = map[string]bool{"Version": true, "Id": true, "Statement": true}
	statementElements = map[string]bool{"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
		"Action": true, "NotAction": true, "Resource": true, "NotResource": true, "Condition": true}
)

// registryActions are what a registry policy may grant (ECR enforces no
// others at the registry level and refuses documents naming others).
var registryActions = []string{"ecr:ReplicateImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}

// Parse reads and checks a policy document of the given kind, and
// compiles it for Evaluate. A refusal is an *Error naming the statement
// and element at fault.
func Parse(kind Kind, text []byte) (*Policy, error) {
	fail := func(element, msg string) error {
		return &Error{Kind: kind, Statement: -1, Element: element, Msg: msg}
	}
	if kind < Identity || kind > Registry {
		return nil, fail("", "unknown kind of policy")
	}
	// ECR limits policyText itself; IAM's quotas depend on where a policy
	// is attached, so callers check those with NonWhitespaceLen.
	limit := 0
	switch kind {
	case Repository:
		limit = MaxRepositoryPolicySize
	case Registry:
		limit = MaxRegistryPolicySize
	}
	if n := utf8.RuneCount(text); limit > 0 && n > limit {
		return nil, fail("", "the document is "+strconv.Itoa(n)+" characters long; the limit is "+strconv.Itoa(limit))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(text, &top); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fail("", "not valid JSON: "+syn.Error()+" (at byte "+strconv.FormatInt(syn.Offset, 10)+")")
		}
		return nil, fail("", "the document must be a JSON object")
	}
	if top == nil {
		return nil, fail("", "the document must be a JSON object")
	}
	if name := unknownElement(top, documentElements); name != "" {
		return nil, fail(name, "unknown element; a policy has Version, Id and Statement")
	}
	p := &Policy{kind: kind}
	if raw, ok := top["Version"]; ok {
		v, ok := jsonString(raw)
		if !ok || (v != Version2012 && v != Version2008) {
			return nil, fail("Version", "must be \""+Version2012+"\" or \""+Version2008+"\", not "+string(compact(raw)))
		}
		p.version = v
	}
	if raw, ok := top["Id"]; ok {
		v, ok := jsonString(raw)
		if !ok {
			return nil, fail("Id", "must be a string")
		}
		p.id, p.hasID = v, true
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, fail("Statement", "missing; a policy needs at least one statement")
	}
	var list []json.RawMessage
	switch firstByte(raw) {
	case '{':
		p.single = true
		list = []json.RawMessage{raw}
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
			return nil, fail("Statement", "must be a statement or a non-empty array of statements")
		}
	default:
		return nil, fail("Statement", "must be a statement or a non-empty array of statements")
	}
	sids := map[string]int{}
	for i, raw := range list {
		st, err := p.parseStatement(i, raw)
		if err != nil {
			return nil, err
		}
		if st.sid != "" {
			if j, dup := sids[st.sid]; dup {
				return nil, &Error{Kind: kind, Statement: i, Sid: st.sid, Element: "Sid",
					Msg: "Statement[" + strconv.Itoa(j) + "] has the same Sid; Sids must be unique within a policy"}
			}
			sids[st.sid] = i
		}
		p.stmts = append(p.stmts, st)
	}
	return p, nil
}

func (p *Policy) parseStatement(i int, raw json.RawMessage) (*statement, error) {
	st := &statement{}
	fail := func(element, msg string) error {
		return &Error{Kind: p.kind, Statement: i, Sid: st.sid, Element: element, Msg: msg}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, fail("", "a statement must be a JSON object")
	}
	// Sid first, so every later error can name the statement by it.
	if raw, ok := m["Sid"]; ok {
		v, ok := jsonString(raw)
		if !ok {
			return nil, fail("Sid", "must be a string")
		}
		st.sid, st.hasSid = v, true
		if p.kind == Identity && !isAlphanumeric(v) {
			return nil, fail("Sid", "may contain only letters and digits in an identity-based policy")
		}
	}
	if name := unknownElement(m, statementElements); name != "" {
		return nil, fail(name, "unknown element; a statement has Sid, Effect, Principal or NotPrincipal, Action or NotAction, Resource or NotResource, and Condition")
	}

	switch raw, ok := m["Effect"]; {
	case !ok:
		return nil, fail("Effect", "missing; use \"Allow\" or \"Deny\"")
	default:
		v, _ := jsonString(raw)
		switch v {
		case "Allow":
		case "Deny":
			st.deny = true
		default:
			return nil, fail("Effect", "must be \"Allow\" or \"Deny\", not "+string(compact(raw)))
		}
	}

	if err := p.parsePrincipal(st, m, fail); err != nil {
		return nil, err
	}
	if err := p.parseActions(st, m, fail); err != nil {
		return nil, err
	}
	if err := p.parseResources(st, m, fail); err != nil {
		return nil, err
	}
	if raw, ok := m["Condition"]; ok {
		if err := p.parseConditions(st, raw, fail); err != nil {
			return nil, err
		}
	}
	return st, nil
}

type failFunc func(element, msg string) error

func (p *Policy) parsePrincipal(st *statement, m map[string]json.RawMessage, fail failFunc) error {
	raw, hasP := m["Principal"]
	rawNot, hasNot := m["NotPrincipal"]
	name := "Principal"
	switch {
	case p.kind == Identity && (hasP || hasNot):
		if hasNot {
			name = "NotPrincipal"
		}
		return fail(name, "not allowed in an identity-based policy; the principal is the identity the policy is attached to")
	case p.kind == Identity:
		return nil
	case hasP && hasNot:
		return fail("NotPrincipal", "a statement has Principal or NotPrincipal, not both")
	case !hasP && !hasNot:
		return fail("Principal", "missing; a "+p.kind.String()+" must name who it applies to")
	case hasNot:
		raw, name, st.notPrincipal = rawNot, "NotPrincipal", true
	}
	ps := &principals{}
	if s, ok := jsonString(raw); ok {
		if s != "*" {
			return fail(name, "a string principal must be \"*\"; name others as {\"AWS\": …} or {\"Service\": …}")
		}
		ps.star, ps.all = true, true
		st.principal = ps
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || len(obj) == 0 {
		return fail(name, "must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}")
	}
	for _, typ := range sortedKeys(obj) {
		elem := name + "." + typ
		list, ok := stringList(obj[typ])
		if !ok {
			return fail(elem, "must be a string or a non-empty array of strings")
		}
		var add func(string) string
		switch typ {
		case "AWS":
			ps.aws, add = list, ps.addAWS
		case "Service":
			ps.svc, add = list, ps.addService
		case "Federated", "CanonicalUser":
			return fail(elem, "not supported by ECR; use AWS or Service")
		default:
			return fail(elem, "unknown principal type; use AWS or Service")
		}
		for _, v := range list.vals {
			if msg := add(v); msg != "" {
				return fail(elem, msg)
			}
		}
	}
	st.principal = ps
	return nil
}

func (p *Policy) parseActions(st *statement, m map[string]json.RawMessage, fail failFunc) error {
	raw, hasA := m["Action"]
	rawNot, hasNot := m["NotAction"]
	name := "Action"
	switch {
	case hasA && hasNot:
		return fail("NotAction", "a statement has Action or NotAction, not both")
	case !hasA && !hasNot:
		return fail("Action", "missing; name the actions, such as \"ecr:BatchGetImage\"")
	case hasNot:
		raw, name, st.notAction = rawNot, "NotAction", true
	}
	if p.kind == Registry && st.notAction {
		return fail(name, "not allowed in a registry policy; list the actions in Action")
	}
	list, ok := stringList(raw)
	if !ok {
		return fail(name, "must be a string or a non-empty array of strings")
	}
	st.action = list
	for _, v := range list.vals {
		a, ok := compileAction(v)
		if !ok {
			return fail(name, quote(v)+" is not an action; write service:Action, such as ecr:BatchGetImage or ecr:Get*")
		}
		if p.kind == Registry && !registryAction(v) {
			return fail(name, quote(v)+" cannot be granted by a registry policy; use ecr:ReplicateImage, ecr:BatchImportUpstreamImage or ecr:CreateRepository")
		}
		st.actions = append(st.actions, a)
	}
	return nil
}

func registryAction(v string) bool {
	if strings.EqualFold(v, "ecr:*") {
		return true
	}
	for _, a := range registryActions {
		if strings.EqualFold(v, a) {
			return true
		}
	}
	return false
}

func (p *Policy) parseResources(st *statement, m map[string]json.RawMessage, fail failFunc) error {
	raw, hasR := m["Resource"]
	rawNot, hasNot := m["NotResource"]
	name := "Resource"
	switch {
	case p.kind == Repository && (hasR || hasNot):
		// ECR refuses these (Invalid repository policy provided): a
		// repository policy always applies to its own repository.
		if hasNot {
			name = "NotResource"
		}
		return fail(name, "not allowed in a repository policy; it applies to the repository it is set on")
	case p.kind == Repository:
		return nil
	case hasR && hasNot:
		return fail("NotResource", "a statement has Resource or NotResource, not both")
	case !hasR && !hasNot:
		return fail("Resource", "missing; name the resources, such as \"arn:aws:ecr:us-east-1:123456789012:repository/app\" or \"*\"")
	case hasNot:
		raw, name, st.notResource = rawNot, "NotResource", true
	}
	list, ok := stringList(raw)
	if !ok {
		return fail(name, "must be a string or a non-empty array of strings")
	}
	st.resource, st.hasResource = list, true
	vars := p.version == Version2012
	for _, v := range list.vals {
		ap, ok := compileARN(v, vars)
		if !ok || (v != "*" && !validARNPattern(v, vars)) {
			return fail(name, quote(v)+" is not an ARN (arn:partition:service:region:account:resource) or \"*\"")
		}
		st.resources = append(st.resources, ap)
		st.resourceVars = st.resourceVars || ap.hasVars()
	}
	return nil
}

// validARNPattern checks the fixed parts of a Resource ARN.
func validARNPattern(v string, vars bool) bool {
	prefix, rest, _ := cutColon(v, vars)
	partition, rest, _ := cutColon(rest, vars)
	service, _, _ := cutColon(rest, vars)
	return prefix == "arn" && partition != "" && service != ""
}

func (p *Policy) parseConditions(st *statement, raw json.RawMessage, fail failFunc) error {
	var ops map[string]json.RawMessage
	if json.Unmarshal(raw, &ops) != nil || ops == nil {
		return fail("Condition", "must be an object of operators, such as {\"StringEquals\": {\"aws:PrincipalAccount\": \"123456789012\"}}")
	}
	vars := p.version == Version2012
	for _, opName := range sortedKeys(ops) {
		elem := "Condition." + opName
		op, set, ifExists, ok := parseOperator(opName)
		if !ok {
			return fail(elem, "unknown condition operator")
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(ops[opName], &keys) != nil || len(keys) == 0 {
			return fail(elem, "must be an object of condition keys and their values")
		}
		for _, keyName := range sortedKeys(keys) {
			elem := elem + "." + keyName
			k, ok := compileKey(keyName)
			if !ok {
				return fail(elem, "not a condition key; write prefix:name, such as aws:SourceIp")
			}
			values, ok := conditionValues(keys[keyName])
			if !ok {
				return fail(elem, "must be a string, number or boolean, or a non-empty array of them")
			}
			c := &condition{op: opName, operator: op, set: set, ifExists: ifExists, key: k, values: values}
			if msg := c.compileValues(vars); msg != "" {
				return fail(elem, msg)
			}
			c.hasVars = c.valuesHaveVars()
			st.conds = append(st.conds, c)
		}
	}
	return nil
}

// conditionValues reads a condition's values; numbers and booleans are
// kept as their JSON text.
func conditionValues(raw json.RawMessage) (strList, bool) {
	scalar := func(r json.RawMessage) (string, bool) {
		r = bytes.TrimSpace(r)
		if s, ok := jsonString(r); ok {
			return s, true
		}
		switch firstByte(r) {
		case 't', 'f':
			var b bool
			if json.Unmarshal(r, &b) == nil {
				return strconv.FormatBool(b), true
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			var n json.Number
			if json.Unmarshal(r, &n) == nil {
				return n.String(), true
			}
		}
		return "", false
	}
	if firstByte(raw) != '[' {
		s, ok := scalar(raw)
		return strList{vals: []string{s}, single: true}, ok
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return strList{}, false
	}
	out := strList{vals: make([]string, 0, len(list))}
	for _, r := range list {
		s, ok := scalar(r)
		if !ok {
			return strList{}, false
		}
		out.vals = append(out.vals, s)
	}
	return out, true
}

// stringList reads a string or a non-empty array of strings.
func stringList(raw json.RawMessage) (strList, bool) {
	if s, ok := jsonString(raw); ok {
		return strList{vals: []string{s}, single: true}, true
	}
	var list []string
	if firstByte(raw) != '[' || json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return strList{}, false
	}
	return strList{vals: list}, true
}

func jsonString(raw json.RawMessage) (string, bool) {
	if firstByte(raw) != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// compact shortens a JSON value for an error message.
func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	if b.Len() > 60 {
		return append(b.Bytes()[:57:57], "..."...)
	}
	return b.Bytes()
}

func unknownElement(m map[string]json.RawMessage, known map[string]bool) string {
	for _, k := range sortedKeys(m) {
		if !known[k] {
			return k
		}
	}
	return ""
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func quote(s string) string { return strconv.Quote(s) }
