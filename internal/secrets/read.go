package secrets

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// GetValue reads a version of a secret's value, by ID or label (the
// current one when neither is given), and records the day of the access.
func (s *Service) GetValue(ctx context.Context, reg Registry, id, versionID, stage string) (*Secret, *Value, error) {
	sec, err := s.live(ctx, reg, id)
	if err != nil {
		return nil, nil, err
	}
	if versionID == "" && stage == "" {
		stage = StageCurrent
	}
	v, err := s.value(ctx, sec, versionID, stage)
	if err != nil {
		return nil, nil, err
	}
	// LastAccessedDate is a day: one write a day per secret, not one per
	// read. A failure to record it does not fail the read.
	day := s.now().UTC().Truncate(24 * time.Hour)
	if !sec.AccessedAt.Equal(day) {
		if err := s.store.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{AccessedAt: day}); err != nil {
			s.log.WarnContext(ctx, "record a secret's last access", "secret", sec.ARN, "err", err)
		}
	}
	return sec, v, nil
}

// Describe reads a secret's record, scheduled for deletion or not.
func (s *Service) Describe(ctx context.Context, reg Registry, id string) (*Secret, error) {
	return s.find(ctx, reg, id)
}

// Filter is one of ListSecrets' filters: a key and values, each a prefix
// to match or, after "!", not to match.
type Filter struct {
	Key    string
	Values []string
}

// ListQuery is a page of ListSecrets.
type ListQuery struct {
	IncludePlannedDeletion bool
	Filters                []Filter
	// SortBy is created-date (the default), last-accessed-date,
	// last-changed-date or name; SortOrder asc (the default) or desc.
	SortBy     string
	SortOrder  string
	MaxResults int
	NextToken  string
}

// DefaultMaxResults is a page's size when the call gives none.
const DefaultMaxResults = 100

// List lists a registry's secrets that match the filters, a page at a
// time. A registry holds few secrets (credentials, not data), so a page is
// cut from the whole filtered and sorted list; the token names the last
// secret given (its sort key and ARN), so a page starts where the last one
// ended even when secrets were added or removed in between.
func (s *Service) List(ctx context.Context, reg Registry, q ListQuery) ([]Secret, string, error) {
	for _, f := range q.Filters {
		if len(f.Values) == 0 {
			return nil, "", errorf(ErrInvalidParameter, "The filter %s has no values.", f.Key)
		}
	}
	all, err := s.store.Secrets(ctx, reg)
	if err != nil {
		return nil, "", fmt.Errorf("list secrets of %s/%s: %w", reg.Account, reg.Region, err)
	}
	now := s.now()
	var out []Secret
	for i := range all {
		sec := &all[i]
		if sec.Scheduled() && !now.Before(sec.DeletionDate) {
			s.purge(ctx, sec)
			continue
		}
		if sec.Scheduled() && !q.IncludePlannedDeletion || !matches(sec, q.Filters) {
			continue
		}
		out = append(out, *sec)
	}
	key := sortKey(q.SortBy)
	desc := q.SortOrder == "desc"
	order := func(a, b Secret) int {
		c := cmp.Compare(key(&a), key(&b))
		if c == 0 {
			c = cmp.Compare(a.ARN, b.ARN)
		}
		if desc {
			return -c
		}
		return c
	}
	slices.SortFunc(out, order)
	if q.NextToken != "" {
		k, arn, ok := decodeToken(q.NextToken)
		if !ok {
			return nil, "", errorf(ErrInvalidNextToken, "The NextToken value is not valid.")
		}
		at := Secret{ARN: arn}
		start, _ := slices.BinarySearchFunc(out, at, func(e, _ Secret) int {
			c := cmp.Compare(key(&e), k)
			if c == 0 {
				c = cmp.Compare(e.ARN, arn)
			}
			if desc {
				c = -c
			}
			if c <= 0 {
				return -1
			}
			return 1
		})
		out = out[start:]
	}
	limit := q.MaxResults
	if limit <= 0 {
		limit = DefaultMaxResults
	}
	if len(out) <= limit {
		return out, "", nil
	}
	last := &out[limit-1]
	return out[:limit], encodeToken(key(last), last.ARN), nil
}

// sortKey is the key secrets are listed by, as a string that sorts as the
// key does.
func sortKey(by string) func(*Secret) string {
	stamp := func(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }
	switch by {
	case "name":
		return func(s *Secret) string { return s.Name }
	case "last-accessed-date":
		return func(s *Secret) string { return stamp(s.AccessedAt) }
	case "last-changed-date":
		return func(s *Secret) string { return stamp(s.ChangedAt) }
	}
	return func(s *Secret) string { return stamp(s.CreatedAt) }
}

func encodeToken(key, arn string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("1\x00" + key + "\x00" + arn))
}

func decodeToken(tok string) (key, arn string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || parts[0] != "1" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// matches reports whether sec passes every filter. Within a filter a
// secret must match one of the values that are not negated (if any) and
// none of those that are.
func matches(sec *Secret, filters []Filter) bool {
	for _, f := range filters {
		var pos, hit bool
		for _, v := range f.Values {
			neg := strings.HasPrefix(v, "!")
			if neg {
				if matchesValue(sec, f.Key, v[1:]) {
					return false
				}
				continue
			}
			pos = true
			hit = hit || matchesValue(sec, f.Key, v)
		}
		if pos && !hit {
			return false
		}
	}
	return true
}

// matchesValue is one filter value against a secret, as the API reference
// describes each key: a prefix of the name, tag keys and values (case
// counts), of the description (case does not), of the region; "all"
// breaks the value into words, each of which must begin one of the
// secret's attributes or a word in one, case aside. No Berth secret is
// owned by another service.
func matchesValue(sec *Secret, key, v string) bool {
	switch key {
	case "name":
		return strings.HasPrefix(sec.Name, v)
	case "description":
		return strings.HasPrefix(strings.ToLower(sec.Description), strings.ToLower(v))
	case "tag-key":
		return slices.ContainsFunc(sec.Tags, func(t Tag) bool { return strings.HasPrefix(t.Key, v) })
	case "tag-value":
		return slices.ContainsFunc(sec.Tags, func(t Tag) bool { return strings.HasPrefix(t.Value, v) })
	case "primary-region":
		return strings.HasPrefix(sec.Registry.Region, v)
	case "all":
		attrs := []string{sec.Name, sec.Description}
		for _, t := range sec.Tags {
			attrs = append(attrs, t.Key, t.Value)
		}
		var words []string
		for _, a := range attrs {
			a = strings.ToLower(a)
			words = append(words, a)
			words = append(words, strings.FieldsFunc(a, func(r rune) bool {
				return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r > 127)
			})...)
		}
		for _, w := range strings.Fields(strings.ToLower(v)) {
			if !slices.ContainsFunc(words, func(x string) bool { return strings.HasPrefix(x, w) }) {
				return false
			}
		}
		return true
	}
	return false
}

// VersionsQuery is a page of ListSecretVersionIds.
type VersionsQuery struct {
	IncludeDeprecated bool
	MaxResults        int
	NextToken         string
}

// Versions lists a secret's versions, newest first: those with labels,
// and the deprecated ones too when asked.
func (s *Service) Versions(ctx context.Context, reg Registry, id string, q VersionsQuery) (*Secret, []Version, string, error) {
	sec, err := s.find(ctx, reg, id)
	if err != nil {
		return nil, nil, "", err
	}
	var vs []Version
	for _, v := range sec.Versions {
		if len(v.Stages) > 0 || q.IncludeDeprecated {
			vs = append(vs, v)
		}
	}
	start := 0
	if q.NextToken != "" {
		_, after, ok := decodeToken(q.NextToken)
		if !ok {
			return nil, nil, "", errorf(ErrInvalidNextToken, "The NextToken value is not valid.")
		}
		// After the version the last page ended with; from the start if
		// it is gone.
		if i := slices.IndexFunc(vs, func(v Version) bool { return v.ID == after }); i >= 0 {
			start = i + 1
		}
	}
	vs = vs[start:]
	limit := q.MaxResults
	if limit <= 0 {
		limit = DefaultMaxResults
	}
	if len(vs) <= limit {
		return sec, vs, "", nil
	}
	last := vs[limit-1]
	return sec, vs[:limit], encodeToken(strconv.Itoa(start+limit), last.ID), nil
}
