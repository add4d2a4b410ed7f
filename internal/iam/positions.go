package iam

import (
	"bytes"
	"encoding/json"
)

// statementSpan is where a statement is in its document's text, as the
// simulator's MatchedStatements place it: from its opening brace to just
// past its closing one.
type statementSpan struct{ start, end Position }

// statementSpans locates each statement of a policy document, in the
// order the engine numbers them; nil when the text cannot be read (then
// the simulator names statements without positions).
func statementSpans(doc string) []statementSpan {
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "Statement" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		var spans []statementSpan
		one := func() bool {
			var raw json.RawMessage
			before := dec.InputOffset()
			if dec.Decode(&raw) != nil {
				return false
			}
			end := int(dec.InputOffset())
			// The offset before decoding may precede blanks and a comma.
			start := end - len(raw)
			if start < int(before) {
				start = int(before)
			}
			spans = append(spans, statementSpan{positionAt(doc, start), positionAt(doc, end)})
			return true
		}
		if bytes.HasPrefix(bytes.TrimLeft([]byte(doc[dec.InputOffset():]), " \t\r\n:"), []byte("[")) {
			if _, err := dec.Token(); err != nil {
				return nil
			}
			for dec.More() {
				if !one() {
					return nil
				}
			}
			return spans
		}
		if !one() {
			return nil
		}
		return spans
	}
	return nil
}

// positionAt is the line and column (from 1) of byte offset off.
func positionAt(doc string, off int) Position {
	p := Position{Line: 1, Column: 1}
	for i := 0; i < off && i < len(doc); i++ {
		if doc[i] == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	return p
}
