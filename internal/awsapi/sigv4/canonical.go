package sigv4

import (
	"cmp"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest builds
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// where CanonicalHeaders ends with its own newline.
func canonicalRequest(r *http.Request, a *auth, payloadHash string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, wirePath(r))
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery, a.presigned)
	b = append(b, '\n')
	for names := a.signedHeaders; names != ""; {
		var name string
		name, names, _ = strings.Cut(names, ";")
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, a.signedHeaders...)
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// wirePath returns the path exactly as the client sent it. r.URL.Path is
// decoded and r.URL.EscapedPath may re-encode it differently, while the
// client signed the encoded form it put on the wire.
func wirePath(r *http.Request) string {
	if p := r.RequestURI; strings.HasPrefix(p, "/") {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return p
	}
	// Absolute-form request targets, and requests built in-process.
	return r.URL.EscapedPath()
}

// appendCanonicalURI normalises the path (RFC 3986 dot-segment removal,
// plus the collapsing of empty segments that AWS also requires) and
// URI-encodes it. The path is already encoded as sent, so this encodes each
// segment a second time, as non-S3 services expect ("%20" becomes "%2520").
func appendCanonicalURI(b []byte, path string) []byte {
	path = normalizePath(path)
	if path == "" {
		return append(b, '/')
	}
	return appendURIEncode(b, path, false)
}

func normalizePath(p string) string {
	// Fast path: nothing to remove in the paths real clients send.
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && !strings.HasPrefix(p, ".") {
		return p
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		n += "/"
	}
	return n
}

// appendCanonicalQuery appends the query parameters decoded, re-encoded per
// RFC 3986 and sorted by key then value. In a presigned URL the signature
// itself is of course not part of what was signed.
func appendCanonicalQuery(b []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return b
	}
	type param struct{ key, value string }
	params := make([]param, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{uriEncode(k), uriEncode(v)})
	}
	slices.SortFunc(params, func(x, y param) int {
		return cmp.Or(strings.Compare(x.key, y.key), strings.Compare(x.value, y.value))
	})
	for i, p := range params {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return b
}

// queryParam returns the decoded value of the first parameter named key.
// Parsing the whole query into url.Values for the few X-Amz-* lookups
// would allocate a map on every request.
func queryParam(raw, key string) (string, bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if k, v, _ := strings.Cut(pair, "="); k == key {
			return queryUnescape(v), true
		}
	}
	return "", false
}

// queryUnescape decodes like Go's own query parsing ("+" is a space). A
// malformed escape is kept as sent: the client signed something, and the
// signature check decides.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// appendHeaderValue appends the canonical value of the named header: each
// value trimmed with runs of spaces collapsed, several values joined by ",".
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	// net/http moves Host out of r.Header, and leaves Content-Length out of
	// it for requests built in-process.
	if strings.EqualFold(name, "host") {
		return appendTrimmed(b, r.Host)
	}
	values := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	if len(values) == 0 && strings.EqualFold(name, "content-length") && r.ContentLength > 0 {
		return strconv.AppendInt(b, r.ContentLength, 10)
	}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return b
}

func uriEncode(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendURIEncode(make([]byte, 0, len(s)+16), s, true))
		}
	}
	return s // the common case: nothing to encode, nothing to allocate
}

// appendURIEncode percent-encodes every byte outside RFC 3986's unreserved
// set, in upper-case hex; "/" is kept unless encodeSlash.
func appendURIEncode(b []byte, s string, encodeSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return b
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
