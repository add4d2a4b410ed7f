package authz

import (
	"sync"

	"github.com/berth-registry/berth/internal/authz/policy"
)

// ParsedPolicies keeps parsed policy documents by their text, so that a
// decision the Evaluator has not cached costs the policy sources lookups,
// not parsing. The zero value is ready to use.
type ParsedPolicies struct {
	mu     sync.Mutex
	parsed map[parsedKey]*policy.Policy
}

type parsedKey struct {
	kind policy.Kind
	text string
}

// maxParsed bounds the documents kept; past it, the cache starts over.
const maxParsed = 10000

// Parse is policy.Parse, remembered.
func (c *ParsedPolicies) Parse(kind policy.Kind, text string) (*policy.Policy, error) {
	k := parsedKey{kind, text}
	c.mu.Lock()
	p, ok := c.parsed[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(kind, []byte(text))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.parsed == nil || len(c.parsed) >= maxParsed {
		c.parsed = map[parsedKey]*policy.Policy{}
	}
	c.parsed[k] = p
	c.mu.Unlock()
	return p, nil
}
