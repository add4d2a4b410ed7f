package policy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type family uint8

const (
	famString family = iota
	famArn
	famNumeric
	famDate
	famBool
	famIP
	famNull
)

type comparison uint8

const (
	cmpEq comparison = iota
	cmpEqFold
	cmpLike
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type operator struct {
	fam family
	cmp comparison
	// neg marks the negated operators (StringNotEquals, NotIpAddress, …):
	// several policy values are NOR'ed, and a missing key makes them true.
	neg bool
}

// operators are the condition operators ECR policies use, without the
// ForAnyValue:/ForAllValues: prefixes and the IfExists suffix.
var operators = map[string]operator{
	"StringEquals":              {famString, cmpEq, false},
	"StringNotEquals":           {famString, cmpEq, true},
	"StringEqualsIgnoreCase":    {famString, cmpEqFold, false},
	"StringNotEqualsIgnoreCase": {famString, cmpEqFold, true},
	"StringLike":                {famString, cmpLike, false},
	"StringNotLike":             {famString, cmpLike, true},
	"ArnEquals":                 {famArn, cmpLike, false},
	"ArnLike":                   {famArn, cmpLike, false},
	"ArnNotEquals":              {famArn, cmpLike, true},
	"ArnNotLike":                {famArn, cmpLike, true},
	"NumericEquals":             {famNumeric, cmpEq, false},
	"NumericNotEquals":          {famNumeric, cmpEq, true},
	"NumericLessThan":           {famNumeric, cmpLt, false},
	"NumericLessThanEquals":     {famNumeric, cmpLe, false},
	"NumericGreaterThan":        {famNumeric, cmpGt, false},
	"NumericGreaterThanEquals":  {famNumeric, cmpGe, false},
	"DateEquals":                {famDate, cmpEq, false},
	"DateNotEquals":             {famDate, cmpEq, true},
	"DateLessThan":              {famDate, cmpLt, false},
	"DateLessThanEquals":        {famDate, cmpLe, false},
	"DateGreaterThan":           {famDate, cmpGt, false},
	"DateGreaterThanEquals":     {famDate, cmpGe, false},
	"Bool":                      {famBool, cmpEq, false},
	"IpAddress":                 {famIP, cmpEq, false},
	"NotIpAddress":              {famIP, cmpEq, true},
	"Null":                      {famNull, cmpEq, false},
}

type setOp uint8

const (
	setNone setOp = iota
	setAny        // ForAnyValue:
	setAll        // ForAllValues:
)

// condition is one key under one operator, with its values compiled.
type condition struct {
	op string // as written, e.g. ForAnyValue:StringLikeIfExists
	operator
	set      setOp
	ifExists bool
	key      ckey
	values   strList
	hasVars  bool // a value holds a policy variable

	strs  []pattern
	arns  []arnPattern
	nums  []float64
	times []time.Time
	bools []bool
	nets  []netip.Prefix
	// Null: the key must be absent (true) or present (false); a list
	// allows either it names.
	nullTrue, nullFalse bool
}

func (c *condition) valuesHaveVars() bool {
	for i := range c.strs {
		if c.strs[i].vars {
			return true
		}
	}
	for i := range c.arns {
		if c.arns[i].hasVars() {
			return true
		}
	}
	return false
}

// parseOperator splits ForAllValues:StringLikeIfExists into its parts.
func parseOperator(name string) (op operator, set setOp, ifExists, ok bool) {
	base := name
	if rest, found := strings.CutPrefix(base, "ForAnyValue:"); found {
		base, set = rest, setAny
	} else if rest, found := strings.CutPrefix(base, "ForAllValues:"); found {
		base, set = rest, setAll
	}
	if rest, found := strings.CutSuffix(base, "IfExists"); found {
		if rest == "Null" {
			return op, set, false, false
		}
		base, ifExists = rest, true
	}
	op, ok = operators[base]
	if ok && op.fam == famNull && set != setNone {
		return op, set, ifExists, false
	}
	return op, set, ifExists, ok
}

// compileValues checks and compiles the policy values for the operator;
// msg says what is wrong with a bad one.
func (c *condition) compileValues(vars bool) (msg string) {
	for _, v := range c.values.vals {
		switch c.fam {
		case famString:
			c.strs = append(c.strs, compilePattern(v, c.cmp == cmpLike, vars))
		case famArn:
			ap, _ := compileARN(v, vars)
			c.arns = append(c.arns, ap)
		case famNumeric:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return strconv.Quote(v) + " is not a number"
			}
			c.nums = append(c.nums, f)
		case famDate:
			t, ok := parseDate(v)
			if !ok {
				return strconv.Quote(v) + " is not a date: use ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds"
			}
			c.times = append(c.times, t)
		case famBool:
			b, ok := parseBool(v)
			if !ok {
				return strconv.Quote(v) + " is not true or false"
			}
			c.bools = append(c.bools, b)
		case famIP:
			p, ok := parseCIDR(v)
			if !ok {
				return strconv.Quote(v) + " is not an IP address or CIDR block"
			}
			c.nets = append(c.nets, p)
		case famNull:
			b, ok := parseBool(v)
			if !ok {
				return strconv.Quote(v) + " is not true or false"
			}
			if b {
				c.nullTrue = true
			} else {
				c.nullFalse = true
			}
		}
	}
	return ""
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseCIDR reads a CIDR block, or an address meaning /32 (or /128).
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		a, bits := p.Addr(), p.Bits()
		if a.Is4In6() {
			// ::ffff:a.b.c.d/n is the IPv4 block a.b.c.d/(n-96).
			if bits < 96 {
				return netip.Prefix{}, false
			}
			a, bits = a.Unmap(), bits-96
		}
		return netip.PrefixFrom(a, bits).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// dateLayouts are the W3C profile of ISO 8601 that IAM documents, plus
// times without a zone, read as UTC.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseDate reads an ISO 8601 date or time, or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
			break
		}
	}
	// Four digits is a year; more is epoch seconds.
	if digits && len(s) != 4 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// eval decides the condition for the request. valid is false when a
// policy variable could not be resolved, which voids the statement.
func (c *condition) eval(ctx *evalCtx) (holds, valid bool) {
	r := &ctx.req
	// Typed keys the request carries as typed fields: no formatting, no
	// parsing.
	switch {
	case c.fam == famDate && (c.key.id == kCurrentTime || c.key.id == kEpochTime) && !r.Time.IsZero():
		return c.one(c.matchTime(r.Time)), true
	case c.fam == famNumeric && c.key.id == kEpochTime && !r.Time.IsZero():
		return c.one(c.matchNumber(float64(r.Time.Unix()))), true
	case c.fam == famIP && c.key.id == kSourceIP && r.SourceIP.IsValid():
		return c.one(c.matchIP(r.SourceIP)), true
	case c.fam == famBool && c.key.id == kSecureTransport:
		return c.one(c.matchBool(r.SecureTransport)), true
	}

	var buf [1]string
	vals, present := ctx.values(&c.key, &buf)
	if !present {
		if ctx.rec != nil {
			ctx.rec.missingKey(c.key.name)
		}
		return c.missing(), true
	}
	if c.fam == famNull {
		return c.nullFalse, true
	}
	valid = true
	test := func(v string) bool {
		m, ok := c.matchString(ctx, v)
		if !ok {
			valid = false
		}
		return m
	}
	holds = c.combine(vals, test)
	if !valid {
		return false, false
	}
	return holds, true
}

// missing is the condition's value when the request context lacks the key.
func (c *condition) missing() bool {
	switch {
	case c.fam == famNull:
		return c.nullTrue
	case c.ifExists:
		return true
	case c.set == setAll:
		return true
	case c.set == setAny:
		return false
	}
	return c.neg
}

// one turns a match into the condition's value for a single request value.
func (c *condition) one(matched bool) bool { return matched != c.neg }

// combine applies the set operator over the request's values; test is the
// positive match of one value against the policy's values (OR'ed).
func (c *condition) combine(vals []string, test func(string) bool) bool {
	switch c.set {
	case setAll:
		for _, v := range vals {
			if !c.one(test(v)) {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if c.one(test(v)) {
				return true
			}
		}
		return false
	}
	// A multivalued key under a plain operator: true when any value matches,
	// and for a negated operator when none does.
	for _, v := range vals {
		if test(v) {
			return !c.neg
		}
	}
	return c.neg
}

// matchString is the positive match of one request value, written as a
// string, against the policy's values.
func (c *condition) matchString(ctx *evalCtx, v string) (matched, valid bool) {
	switch c.fam {
	case famString:
		// With variables every value is resolved, so an unresolvable one
		// voids the statement whatever the others say.
		valid = true
		for i := range c.strs {
			m, ok := c.strs[i].match(ctx, v, c.cmp == cmpEqFold)
			valid = valid && ok
			matched = matched || (m && ok)
			if matched && !c.hasVars {
				break
			}
		}
		return matched && valid, valid
	case famArn:
		valid = true
		for i := range c.arns {
			m, ok := c.arns[i].match(ctx, v)
			valid = valid && ok
			matched = matched || (m && ok)
			if matched && !c.hasVars {
				break
			}
		}
		return matched && valid, valid
	case famNumeric:
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && c.matchNumber(f), true
	case famDate:
		t, ok := parseDate(v)
		return ok && c.matchTime(t), true
	case famBool:
		b, ok := parseBool(v)
		return ok && c.matchBool(b), true
	case famIP:
		a, err := netip.ParseAddr(v)
		return err == nil && c.matchIP(a), true
	}
	return false, true
}

func (c *condition) matchNumber(f float64) bool {
	for _, n := range c.nums {
		if compare(c.cmp, cmpFloat(f, n)) {
			return true
		}
	}
	return false
}

func (c *condition) matchTime(t time.Time) bool {
	for _, p := range c.times {
		if compare(c.cmp, t.Compare(p)) {
			return true
		}
	}
	return false
}

func (c *condition) matchBool(b bool) bool {
	for _, p := range c.bools {
		if b == p {
			return true
		}
	}
	return false
}

func (c *condition) matchIP(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range c.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare reads the request value against the policy value: order is the
// request's relation to the policy's (-1 less, 0 equal, 1 greater).
func compare(cmp comparison, order int) bool {
	switch cmp {
	case cmpEq:
		return order == 0
	case cmpLt:
		return order < 0
	case cmpLe:
		return order <= 0
	case cmpGt:
		return order > 0
	case cmpGe:
		return order >= 0
	}
	return false
}
