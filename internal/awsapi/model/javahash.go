package model

import (
	"slices"
	"unicode/utf16"
)

// AWS's JSON services validate on Coral, a Java framework, and two things in
// its messages come out in java.util.HashMap/HashSet iteration order rather
// than model order:
//
//   - the members of a structure, keyed by their lowerCamel path name, when
//     several violations are listed;
//   - the values in "Member must satisfy enum value set: [...]".
//
// Evidence, each an order neither model order nor sorted order explains,
// and each reproduced exactly by javaHashOrder:
//   - ECR PutImageTagMutability: "enum value set: [IMMUTABLE, MUTABLE,
//     MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]" (model order MUTABLE,
//     IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION), recorded
//     from real ECR in mulgadc/spinifex's gateway/ecrapi tests; the two-value
//     form "[IMMUTABLE, MUTABLE]" is in getmoto/moto's ECR tests.
//   - Cognito AdminCreateUser: "enum value set: [SUPPRESS, RESEND]"
//     (awsdocs/aws-doc-sdk-examples PR #891; model order RESEND, SUPPRESS).
//   - EventBridge UpdateArchive lists retentionDays before description and
//     eventPattern; Cognito SignUp lists password before username and
//     ConfirmForgotPassword confirmationCode before password — all against
//     model order, all matching the hash order of the lowerCamel names.
//
// The order is HashMap's: buckets by (h ^ h>>>16) & (n-1) over Java's
// String.hashCode, entries within a bucket in insertion order, and a table
// that starts at 16 and doubles whenever size exceeds 3/4 of it (Java 8+;
// resizing keeps each bucket's relative order). Bins treeify only past 8
// colliding entries in a table of 64 or more, which no model comes near.

// javaStringHash is java.lang.String.hashCode: over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			h = 31*h + hi
			h = 31*h + lo
			continue
		}
		h = 31*h + r
	}
	return h
}

// javaHashOrder returns the indices of keys in the order a java.util.HashSet
// filled with keys, in slice order, iterates them. Duplicate keys keep their
// first position only, as in a set.
func javaHashOrder(keys []string) []int {
	type entry struct {
		hash  uint32
		index int
	}
	entries := make([]entry, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		h := uint32(javaStringHash(k))
		entries = append(entries, entry{hash: h ^ h>>16, index: i})
	}
	n := 16
	for len(entries) > n*3/4 {
		n *= 2
	}
	bucket := func(e entry) int { return int(e.hash) & (n - 1) }
	// Stable: within a bucket the insertion (slice) order stands.
	slices.SortStableFunc(entries, func(a, b entry) int { return bucket(a) - bucket(b) })
	order := make([]int, len(entries))
	for i, e := range entries {
		order[i] = e.index
	}
	return order
}

// javaHashOrdered returns keys reordered by javaHashOrder.
func javaHashOrdered(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, i := range javaHashOrder(keys) {
		out = append(out, keys[i])
	}
	return out
}
