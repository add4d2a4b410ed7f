package iam

import "github.com/berth-registry/berth/internal/meta"

// ListQuery selects one page of a list, as IAM's List calls ask for it.
type ListQuery struct {
	// PathPrefix keeps what has a path starting with it; "" keeps all.
	PathPrefix string
	// Marker continues a list after the page that returned it.
	Marker string
	// MaxItems bounds the page; 0 is IAM's default, 100.
	MaxItems int
}

// defaultMaxItems is IAM's page size unless MaxItems is given.
const defaultMaxItems = 100

// Page is one page of a list: IsTruncated says there is more, which a call
// with Marker returns.
type Page[T any] struct {
	Items       []T
	IsTruncated bool
	Marker      string
}

func (q ListQuery) limit() int {
	if q.MaxItems > 0 {
		return q.MaxItems
	}
	return defaultMaxItems
}

// fetch is the store query for q's page with room for one item more, to
// tell whether the page is the last.
func (q ListQuery) fetch() meta.IAMListQuery {
	return meta.IAMListQuery{PathPrefix: q.PathPrefix, After: q.Marker, Limit: q.limit() + 1}
}

// pageOf cuts items, fetched with one more than the page holds, to the
// page; the marker continues after the last item kept, named by name.
func pageOf[T any](items []T, q ListQuery, name func(T) string) Page[T] {
	n := q.limit()
	if len(items) <= n {
		return Page[T]{Items: items}
	}
	return Page[T]{Items: items[:n], IsTruncated: true, Marker: name(items[n-1])}
}
