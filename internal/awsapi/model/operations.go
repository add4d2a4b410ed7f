package model

import (
	"html"
	"regexp"
	"slices"
	"strings"
)

// ErrorShapes returns the error shape names the operation may return, in
// model order; nil for an unknown operation. The front door uses it to
// check that a handler only answers with errors the SDKs can decode.
func (m *Model) ErrorShapes(op string) []string {
	o, ok := m.ops[op]
	if !ok {
		return nil
	}
	return slices.Clone(o.Errors)
}

// HasError reports whether the operation models the error code, matched
// against the shape name ("RepositoryNotFoundException") or, for query
// services, the wire code the shape declares (IAM's "NoSuchEntity").
func (m *Model) HasError(op, code string) bool {
	o, ok := m.ops[op]
	if !ok {
		return false
	}
	for _, name := range o.Errors {
		if name == code {
			return true
		}
		if s := m.shapes[name]; s != nil && s.ErrorCode == code {
			return true
		}
	}
	return false
}

// Documentation returns the first sentence of the operation's documentation
// as plain text (HTML stripped), short enough for a "not supported yet"
// message; "" for an unknown or undocumented operation.
func (m *Model) Documentation(op string) string {
	o, ok := m.ops[op]
	if !ok {
		return ""
	}
	return firstSentence(o.doc)
}

var (
	htmlTag    = regexp.MustCompile(`<[^>]*>`)
	whitespace = regexp.MustCompile(`\s+`)
)

// maxDocLen bounds Documentation for operations whose first sentence runs
// on.
const maxDocLen = 300

func firstSentence(doc string) string {
	// The summary is the first paragraph; later ones are notes and caveats.
	if i := strings.Index(doc, "</p>"); i >= 0 {
		doc = doc[:i]
	}
	text := strings.TrimSpace(whitespace.ReplaceAllString(html.UnescapeString(htmlTag.ReplaceAllString(doc, " ")), " "))
	text = strings.ReplaceAll(text, " .", ".")
	text = strings.ReplaceAll(text, " ,", ",")
	if i := strings.Index(text, ". "); i >= 0 {
		text = text[:i+1]
	}
	if r := []rune(text); len(r) > maxDocLen {
		text = strings.TrimSpace(string(r[:maxDocLen-1])) + "…"
	}
	return text
}
