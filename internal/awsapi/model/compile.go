package model

import (
	"fmt"
	"strconv"
	"strings"
)

// shapeValidation is what ValidateInput needs about a shape, worked out once
// at load so that a request costs map lookups, comparisons and regexp runs
// only.
type shapeValidation struct {
	simple bool // not a structure, list or map

	order []int // structure: member indices in the order AWS checks them

	elem, key, val *Shape // list element; map key and value

	pattern *matcher
	enum    map[string]struct{}

	// Constraint texts, in Coral's wording.
	patternText, enumText                    string
	minLenText, maxLenText                   string
	minValText, maxValText                   string
	nestedText                               string // "[...]": all constraints, for elements, keys and values
	hasConstraints, hasLength, hasValueRange bool
}

// compile resolves a shape's references and precomputes its validation.
func (m *Model) compile(s *Shape, patterns patternCache) error {
	v := &s.v
	switch s.Type {
	case "structure":
		names := make([]string, len(s.Members))
		for i := range s.Members {
			mem := &s.Members[i]
			t, ok := m.shapes[mem.Shape]
			if !ok {
				return fmt.Errorf("member %s refers to missing shape %q", mem.Name, mem.Shape)
			}
			mem.target = t
			names[i] = mem.pathName
		}
		v.order = javaHashOrder(names)
	case "list":
		t, ok := m.shapes[s.Member]
		if !ok {
			return fmt.Errorf("list member refers to missing shape %q", s.Member)
		}
		v.elem = t
	case "map":
		k, okk := m.shapes[s.Key]
		val, okv := m.shapes[s.Value]
		if !okk || !okv {
			return fmt.Errorf("map refers to missing shape %q or %q", s.Key, s.Value)
		}
		v.key, v.val = k, val
	default:
		v.simple = true
	}

	if s.Pattern != "" {
		p, err := patterns.get(s.Pattern)
		if err != nil {
			return err
		}
		v.pattern = p
		v.patternText = "Member must satisfy regular expression pattern: " + s.Pattern
	}
	if len(s.Enum) > 0 {
		v.enum = make(map[string]struct{}, len(s.Enum))
		for _, e := range s.Enum {
			v.enum[e] = struct{}{}
		}
		v.enumText = "Member must satisfy enum value set: [" + strings.Join(javaHashOrdered(s.Enum), ", ") + "]"
	}
	if isNumeric(s.Type) {
		v.hasValueRange = s.Min != nil || s.Max != nil
		if s.Min != nil {
			v.minValText = "Member must have value greater than or equal to " + strconv.FormatInt(*s.Min, 10)
		}
		if s.Max != nil {
			v.maxValText = "Member must have value less than or equal to " + strconv.FormatInt(*s.Max, 10)
		}
	} else {
		v.hasLength = s.Min != nil || s.Max != nil
		if s.Min != nil {
			v.minLenText = "Member must have length greater than or equal to " + strconv.FormatInt(*s.Min, 10)
		}
		if s.Max != nil {
			v.maxLenText = "Member must have length less than or equal to " + strconv.FormatInt(*s.Max, 10)
		}
	}

	// The element form lists every constraint of the shape, upper bound
	// first: "[Member must have length less than or equal to 6, Member must
	// have length greater than or equal to 0, Member must satisfy regular
	// expression pattern: .*]" (Lambda CreateFunctionUrlConfig, quoted in
	// public deploy logs; the same order is in getmoto/moto's CloudFormation
	// messages and ECR's registryIds message).
	var parts []string
	for _, t := range []string{v.maxLenText, v.minLenText, v.patternText, v.enumText, v.maxValText, v.minValText} {
		if t != "" {
			parts = append(parts, t)
		}
	}
	if len(parts) > 0 {
		v.hasConstraints = true
		v.nestedText = "[" + strings.Join(parts, ", ") + "]"
	}
	return nil
}

func isNumeric(t string) bool {
	switch t {
	case "integer", "long", "float", "double":
		return true
	}
	return false
}
