package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Parse reads lifecycle policy text and checks it as ECR does: the JSON form
// first (types, required and unknown properties), then Validate. Every error
// is a *ValidationError.
//
// Property names and enum values are case-sensitive, as ECR's schema is;
// null is never a valid value; numbers must be written as integers.
func Parse(text string) (*Policy, error) {
	if n := utf8.RuneCountInString(text); n > MaxPolicyLength {
		return nil, policyError("", fmt.Sprintf("the policy text has %d characters; a lifecycle policy may have at most %d", n, MaxPolicyLength))
	}
	var top map[string]json.RawMessage
	if !isKind([]byte(text), '{') || json.Unmarshal([]byte(text), &top) != nil {
		return nil, policyError("", "Could not map policyString into LifecyclePolicy. The text must be a JSON object.")
	}
	if err := unknownProperty(top, "", -1, 0, "rules"); err != nil {
		return nil, err
	}
	raw, ok := top["rules"]
	if !ok {
		return nil, policyError("rules", "'rules' is required")
	}
	var rules []json.RawMessage
	if !isKind(raw, '[') || json.Unmarshal(raw, &rules) != nil {
		return nil, policyError("rules", "'rules' must be an array of rules")
	}
	p := &Policy{Rules: make([]Rule, 0, len(rules))}
	for i, rr := range rules {
		r, err := parseRule(i, rr)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, r)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// ruleReader reads one rule's properties, naming the rule in its errors.
type ruleReader struct {
	index, prio int
}

func (rd *ruleReader) fail(field, reason string) error {
	return ruleError(rd.index, rd.prio, field, reason)
}

func parseRule(i int, raw json.RawMessage) (Rule, error) {
	var r Rule
	rd := &ruleReader{index: i}
	obj, ok := object(raw)
	if !ok {
		return r, rd.fail("", "a rule must be a JSON object")
	}
	// rulePriority first, so that later errors can name the rule by it.
	if v, ok := obj["rulePriority"]; !ok {
		return r, rd.fail("rulePriority", "'rulePriority' is required")
	} else if n, err := rd.integer(v, "rulePriority"); err != nil {
		return r, err
	} else {
		r.Priority = n
		if n >= 1 {
			rd.prio = n
		}
	}
	if err := unknownProperty(obj, "", i, rd.prio, "rulePriority", "description", "selection", "action"); err != nil {
		return r, err
	}
	if v, ok := obj["description"]; ok {
		s, err := rd.str(v, "description")
		if err != nil {
			return r, err
		}
		r.Description = s
	}

	sel, ok := obj["selection"]
	if !ok {
		return r, rd.fail("selection", "'selection' is required")
	}
	if err := rd.selection(sel, &r); err != nil {
		return r, err
	}

	act, ok := obj["action"]
	if !ok {
		return r, rd.fail("action", "'action' is required")
	}
	if err := rd.action(act, &r); err != nil {
		return r, err
	}
	return r, nil
}

func (rd *ruleReader) selection(raw json.RawMessage, r *Rule) error {
	obj, ok := object(raw)
	if !ok {
		return rd.fail("selection", "'selection' must be a JSON object")
	}
	if err := unknownProperty(obj, "selection.", rd.index, rd.prio,
		"tagStatus", "tagPatternList", "tagPrefixList", "storageClass", "countType", "countUnit", "countNumber"); err != nil {
		return err
	}
	for _, name := range []string{"tagStatus", "countType", "countNumber"} {
		if _, ok := obj[name]; !ok {
			return rd.fail("selection."+name, q("selection."+name)+" is required")
		}
	}
	s, err := rd.enum(obj["tagStatus"], "selection.tagStatus", "tagged", "untagged", "any")
	if err != nil {
		return err
	}
	r.TagStatus = TagStatus(s)
	if v, ok := obj["tagPrefixList"]; ok {
		if r.TagPrefixList, err = rd.strings(v, "selection.tagPrefixList"); err != nil {
			return err
		}
	}
	if v, ok := obj["tagPatternList"]; ok {
		if r.TagPatternList, err = rd.strings(v, "selection.tagPatternList"); err != nil {
			return err
		}
	}
	if v, ok := obj["storageClass"]; ok {
		s, err := rd.enum(v, "selection.storageClass", "standard", "archive")
		if err != nil {
			return err
		}
		r.StorageClass = fromText(storageClassText, s)
	}
	if s, err = rd.enum(obj["countType"], "selection.countType",
		string(CountImageCountMoreThan), string(CountSinceImagePushed), string(CountSinceImagePulled), string(CountSinceImageTransitioned)); err != nil {
		return err
	}
	r.CountType = CountType(s)
	if v, ok := obj["countUnit"]; ok {
		if r.CountUnit, err = rd.enum(v, "selection.countUnit", CountUnitDays); err != nil {
			return err
		}
	}
	r.CountNumber, err = rd.integer(obj["countNumber"], "selection.countNumber")
	return err
}

func (rd *ruleReader) action(raw json.RawMessage, r *Rule) error {
	obj, ok := object(raw)
	if !ok {
		return rd.fail("action", "'action' must be a JSON object")
	}
	if err := unknownProperty(obj, "action.", rd.index, rd.prio, "type", "targetStorageClass"); err != nil {
		return err
	}
	v, ok := obj["type"]
	if !ok {
		return rd.fail("action.type", "'action.type' is required")
	}
	s, err := rd.enum(v, "action.type", "expire", "transition")
	if err != nil {
		return err
	}
	r.Action.Type = fromText(actionTypeText, s)
	if v, ok := obj["targetStorageClass"]; ok {
		s, err := rd.enum(v, "action.targetStorageClass", "archive")
		if err != nil {
			return err
		}
		r.Action.TargetStorageClass = fromText(storageClassText, s)
	}
	return nil
}

func (rd *ruleReader) str(raw json.RawMessage, field string) (string, error) {
	var s string
	if !isKind(raw, '"') || json.Unmarshal(raw, &s) != nil {
		return "", rd.fail(field, q(field)+" must be a string")
	}
	return s, nil
}

func (rd *ruleReader) enum(raw json.RawMessage, field string, values ...string) (string, error) {
	s, err := rd.str(raw, field)
	if err != nil {
		return "", err
	}
	if !slices.Contains(values, s) {
		return "", rd.fail(field, fmt.Sprintf("%s must be %s (found: %s)", q(field), oneOf(values), q(s)))
	}
	return s, nil
}

func (rd *ruleReader) strings(raw json.RawMessage, field string) ([]string, error) {
	var items []json.RawMessage
	if !isKind(raw, '[') || json.Unmarshal(raw, &items) != nil {
		return nil, rd.fail(field, q(field)+" must be an array of strings")
	}
	out := make([]string, 0, len(items))
	for j, it := range items {
		s, err := rd.str(it, field+"["+strconv.Itoa(j)+"]")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// integer reads a JSON number written as an integer: ECR's schema types
// rulePriority and countNumber as integer, which 1.0 and 1e0 are not.
func (rd *ruleReader) integer(raw json.RawMessage, field string) (int, error) {
	b := bytes.TrimSpace(raw)
	digits := bytes.TrimPrefix(b, []byte("-"))
	if len(digits) == 0 || bytes.IndexFunc(digits, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return 0, rd.fail(field, q(field)+" must be an integer")
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n > maxInteger || n < -maxInteger {
		return 0, rd.fail(field, fmt.Sprintf("%s must be an integer from 1 to %d (found: %s)", q(field), maxInteger, b))
	}
	return int(n), nil
}

// unknownProperty refuses the first property, in name order, that the
// object may not have.
func unknownProperty(obj map[string]json.RawMessage, path string, index, prio int, allowed ...string) error {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(allowed, k) {
			reason := fmt.Sprintf("property %s is not allowed; allowed are %s", q(path+k), quoteAll(allowed))
			if index < 0 {
				return policyError(path+k, reason)
			}
			return ruleError(index, prio, path+k, reason)
		}
	}
	return nil
}

func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if !isKind(raw, '{') || json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	return obj, true
}

// isKind reports whether a JSON value starts with c, which tells its kind
// apart from null and the others that Unmarshal would accept quietly.
func isKind(raw []byte, c byte) bool {
	b := bytes.TrimLeft(raw, " \t\r\n")
	return len(b) > 0 && b[0] == c
}

func fromText[K ~string](m map[K]string, s string) K {
	for k, v := range m {
		if v == s {
			return k
		}
	}
	return K(s)
}

func oneOf(values []string) string {
	if len(values) == 1 {
		return q(values[0])
	}
	return "one of " + quoteAll(values)
}

func quoteAll(values []string) string {
	var b bytes.Buffer
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(v))
	}
	return b.String()
}
