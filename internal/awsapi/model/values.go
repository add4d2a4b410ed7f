package model

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Helpers over the values encoding/json produces (with UseNumber):
// nil, bool, json.Number, string, []any, map[string]any. float64 is also
// accepted, for callers that decoded without UseNumber.

// integral reports whether v is a whole number, however it is spelt
// ("1000", "1e3", "1000.0").
func integral(v any) bool {
	switch x := v.(type) {
	case json.Number:
		_, ok := decimalInt(string(x))
		return ok
	case float64:
		return x == math.Trunc(x) && !math.IsInf(x, 0)
	}
	return false
}

// intValue returns an integral number clamped to the Java type's range:
// Coral reads numbers as TruncatingBigNumber and saturates them, so an
// over-long maxResults is reported as 2147483647 (mhart/kinesalite).
func intValue(v any, typ string) (int64, bool) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if typ == "integer" {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	switch x := v.(type) {
	case json.Number:
		i, ok := decimalInt(string(x))
		return min(max(i, lo), hi), ok
	case float64:
		if x != math.Trunc(x) || math.IsNaN(x) {
			return 0, false
		}
		switch {
		case x >= float64(hi):
			return hi, true
		case x <= float64(lo):
			return lo, true
		}
		return int64(x), true
	}
	return 0, false
}

// decimalInt reads a JSON number exactly, without floating point (where
// "1.0000000000000000001" would pass for 1) or big.Float (where "1e999999999"
// costs seconds). ok is false when the number has a fractional part; values
// beyond int64 saturate.
func decimalInt(n string) (v int64, ok bool) {
	neg := strings.HasPrefix(n, "-")
	n = strings.TrimPrefix(n, "-")
	mant, expStr, hasExp := strings.Cut(strings.ToLower(n), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimRight(strings.TrimLeft(intPart+frac, "0"), "0")
	if digits == "" {
		return 0, true // zero, whatever the exponent
	}
	// point: how many of digits' characters stand before the decimal point.
	point := len(intPart) - (len(intPart+frac) - len(strings.TrimLeft(intPart+frac, "0")))
	if hasExp {
		exp, err := strconv.Atoi(strings.TrimPrefix(expStr, "+"))
		switch {
		case err != nil && strings.HasPrefix(expStr, "-"):
			return 0, false // a non-zero number this small has a fraction
		case err != nil || exp > 1e6:
			exp = 1e6 // far beyond int64 either way
		case exp < -1e6:
			return 0, false
		}
		point += exp
	}
	if point < len(digits) {
		return 0, false
	}
	sat := int64(math.MaxInt64)
	if neg {
		sat = math.MinInt64
	}
	if point > 19 {
		return sat, true
	}
	if neg {
		digits = "-" + digits
	}
	i, err := strconv.ParseInt(digits+strings.Repeat("0", point-len(strings.TrimPrefix(digits, "-"))), 10, 64)
	if err != nil {
		return sat, true
	}
	return i, true
}

func floatValue(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// blobLen is the decoded length of (already validated) standard base64.
func blobLen(s string) int {
	n := len(s) / 4 * 3
	if strings.HasSuffix(s, "==") {
		return n - 2
	}
	if strings.HasSuffix(s, "=") {
		return n - 1
	}
	return n
}

// render prints a value the way Coral echoes it in "Value '...' at": Java
// toString forms — lists "[a, b]", maps "{k=v}", blobs as the ByteBuffer
// they were decoded into (mhart/kinesalite). Structures print like maps; no
// AWS sample shows their form.
func render(s *Shape, v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if s != nil && s.Type == "blob" {
			n := strconv.Itoa(blobLen(x))
			return "java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]"
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number, float64:
		if s != nil && (s.Type == "integer" || s.Type == "long") {
			if i, ok := intValue(x, s.Type); ok {
				return strconv.FormatInt(i, 10)
			}
		}
		if f, ok := x.(float64); ok {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return string(x.(json.Number))
	case []any:
		var elem *Shape
		if s != nil {
			elem = s.v.elem
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(elem, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// Sort first so equal inputs render equally whatever Go's map order.
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range javaHashOrdered(keys) {
			parts = append(parts, k+"="+render(childShape(s, k), x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return ""
}

// childShape is the shape of a map value or structure member, if known.
func childShape(s *Shape, key string) *Shape {
	switch {
	case s == nil:
		return nil
	case s.Type == "map":
		return s.v.val
	case s.Type == "structure":
		if mem, ok := s.MemberNamed(key); ok {
			return mem.target
		}
	}
	return nil
}
