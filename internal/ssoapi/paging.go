package ssoapi

import "encoding/base64"

// Pagination of the list operations: NextToken is the last key of the
// page, opaque (base64) to the caller; lists are in key order, so a page
// starts after it. A token survives changes between pages and means the
// same on every node.

// page returns the items after next (a token of an earlier page), at most
// max of them (0: all), and the token of the next page ("" when this is
// the last); ok is false for a token no page answered.
func page[T any](items []T, key func(T) string, max int, next string) (_ []T, nextToken string, ok bool) {
	if next != "" {
		raw, err := base64.RawURLEncoding.DecodeString(next)
		if err != nil {
			return nil, "", false
		}
		after := string(raw)
		i := 0
		for i < len(items) && key(items[i]) <= after {
			i++
		}
		items = items[i:]
	}
	if max <= 0 || len(items) <= max {
		return items, "", true
	}
	return items[:max], base64.RawURLEncoding.EncodeToString([]byte(key(items[max-1]))), true
}
