package model

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// typeChecker is the deserialisation pass: JSON values of the wrong type
// fail the request with a SerializationException, whose message (Coral's,
// recorded against real Kinesis in mhart/kinesalite's test helpers) names
// the Java conversion that failed but not the member. The first failure in
// model member order wins; AWS's is the first in document order, which a
// decoded map no longer has.
type typeChecker struct {
	path pathStack
}

// Coral's own spelling, "an Integer", "an String" and all.
const (
	msgStartOfList   = "Start of list found where not expected"
	msgStartOfObject = "Start of structure or map found where not expected."
	coralNumberClass = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
)

func (tc *typeChecker) fail(msg string) *Violation {
	return &Violation{Path: tc.path.String(), Constraint: msg, kind: kindType}
}

func (tc *typeChecker) structure(s *Shape, obj map[string]any) *Violation {
	for i := range s.Members {
		mem := &s.Members[i]
		v := obj[mem.Name]
		if v == nil {
			continue
		}
		tc.path.push(seg{name: mem.pathName})
		if bad := tc.value(mem.target, v); bad != nil {
			return bad
		}
		tc.path.pop()
	}
	return nil
}

// value checks v (not nil) against s.
func (tc *typeChecker) value(s *Shape, v any) *Violation {
	switch x := v.(type) {
	case []any:
		if s.Type != "list" {
			return tc.fail(msgStartOfList)
		}
		for i, e := range x {
			if e == nil {
				continue
			}
			tc.path.push(seg{index: i + 1})
			if bad := tc.value(s.v.elem, e); bad != nil {
				return bad
			}
			tc.path.pop()
		}
		return nil
	case map[string]any:
		switch s.Type {
		case "structure":
			return tc.structure(s, x)
		case "map":
			// Sorted, so that which bad value is reported doesn't depend on
			// Go's randomised map order.
			for _, k := range slices.Sorted(maps.Keys(x)) {
				e := x[k]
				if e == nil {
					continue
				}
				tc.path.push(seg{name: k})
				if bad := tc.value(s.v.val, e); bad != nil {
					return bad
				}
				tc.path.pop()
			}
			return nil
		}
		return tc.fail(msgStartOfObject)
	}

	switch s.Type {
	case "list":
		return tc.fail("Expected list or null")
	case "map":
		return tc.fail("Expected map or null")
	case "structure":
		return tc.fail("Expected null")
	case "string":
		return tc.scalar(v, "an String", false)
	case "boolean":
		switch x := v.(type) {
		case bool:
			return nil
		case string:
			// AWS also coerces "true", "yes", "1" and the like; SDKs never
			// send those, and Berth's handlers decode strictly.
			return tc.fail("'" + strings.ToUpper(x) + "' can not be converted to an Boolean")
		}
		return tc.scalar(v, "an Boolean", false)
	case "integer", "long", "float", "double":
		return tc.number(s, v)
	case "timestamp":
		switch x := v.(type) {
		case json.Number, float64:
			return nil
		case string:
			// Epoch seconds is what SDKs send on awsJson; ISO 8601 is
			// accepted too (Coral itself refuses strings).
			if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return nil
			}
			return tc.fail("class java.lang.String can not be converted to milliseconds since epoch")
		case bool:
			return tc.fail("class java.lang.Boolean can not be converted to milliseconds since epoch")
		}
		return tc.fail(fmt.Sprintf("unsupported value of Go type %T", v))
	case "blob":
		if x, ok := v.(string); ok {
			if msg := base64Problem(x); msg != "" {
				return tc.fail("'" + x + "' can not be converted to a Blob: " + msg)
			}
			return nil
		}
		return tc.scalar(v, "a Blob", false)
	}
	return nil
}

// scalar handles a bool, number or string aimed at a shape of another
// scalar type. target is Coral's article and class: "an String".
func (tc *typeChecker) scalar(v any, target string, numberOK bool) *Violation {
	switch v.(type) {
	case string:
		if target == "an String" {
			return nil
		}
		return tc.fail("class java.lang.String can not be converted to " + target)
	case bool:
		return tc.fail("class java.lang.Boolean can not be converted to " + target)
	case json.Number, float64:
		if numberOK {
			return nil
		}
		return tc.fail(coralNumberClass + " can not be converted to " + target)
	}
	return tc.fail(fmt.Sprintf("unsupported value of Go type %T", v))
}

// javaNumberClass is how Coral names the Java type a model number type
// converts to, article included.
var javaNumberClass = map[string]string{
	"integer": "an Integer",
	"long":    "an Long",
	"float":   "an Float",
	"double":  "an Double",
}

// number checks a value for an integer, long, float or double shape.
func (tc *typeChecker) number(s *Shape, v any) *Violation {
	target := javaNumberClass[s.Type]
	if bad := tc.scalar(v, target, true); bad != nil {
		return bad
	}
	if (s.Type == "integer" || s.Type == "long") && !integral(v) {
		// AWS truncates 1.5 to 1 silently (TruncatingBigNumber). Berth
		// refuses it instead, so handlers can decode into Go integers; the
		// wording follows Coral's other conversion failures.
		return tc.fail("'" + render(nil, v) + "' can not be converted to " + target)
	}
	return nil
}

// base64Problem returns why s is not what Coral accepts as a blob (padded
// standard base64), in Coral's words (typo included), or "".
func base64Problem(s string) string {
	if n := utf8.RuneCountInString(s); n%4 != 0 {
		return "Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(n)
	}
	for i, c := range s {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
		if c == '=' {
			ok = i+1 == len(s) || s[i+1] == '='
		}
		if !ok {
			return "Invalid Base64 character: '" + string(c) + "'"
		}
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(s); err != nil {
		return "Invalid last non-pad Base64 character dectected"
	}
	return ""
}
