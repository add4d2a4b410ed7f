package policy

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes the document back in a canonical form: elements in
// IAM's order, condition operators and keys sorted, each list written as a
// string or an array as it was read, and condition numbers and booleans as
// strings. Parsing the result gives an equivalent policy.
func (p *Policy) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	comma := false
	field := func(name string) {
		if comma {
			b.WriteByte(',')
		}
		comma = true
		writeString(&b, name)
		b.WriteByte(':')
	}
	if p.version != "" {
		field("Version")
		writeString(&b, p.version)
	}
	if p.hasID {
		field("Id")
		writeString(&b, p.id)
	}
	field("Statement")
	if !p.single {
		b.WriteByte('[')
	}
	for i, st := range p.stmts {
		if i > 0 {
			b.WriteByte(',')
		}
		st.marshal(&b)
	}
	if !p.single {
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (st *statement) marshal(b *bytes.Buffer) {
	b.WriteByte('{')
	comma := false
	field := func(name string) {
		if comma {
			b.WriteByte(',')
		}
		comma = true
		writeString(b, name)
		b.WriteByte(':')
	}
	if st.hasSid {
		field("Sid")
		writeString(b, st.sid)
	}
	field("Effect")
	if st.deny {
		writeString(b, "Deny")
	} else {
		writeString(b, "Allow")
	}
	if ps := st.principal; ps != nil {
		if st.notPrincipal {
			field("NotPrincipal")
		} else {
			field("Principal")
		}
		if ps.star {
			writeString(b, "*")
		} else {
			b.WriteByte('{')
			if len(ps.aws.vals) > 0 {
				writeString(b, "AWS")
				b.WriteByte(':')
				writeList(b, ps.aws)
			}
			if len(ps.svc.vals) > 0 {
				if len(ps.aws.vals) > 0 {
					b.WriteByte(',')
				}
				writeString(b, "Service")
				b.WriteByte(':')
				writeList(b, ps.svc)
			}
			b.WriteByte('}')
		}
	}
	if st.notAction {
		field("NotAction")
	} else {
		field("Action")
	}
	writeList(b, st.action)
	if st.hasResource {
		if st.notResource {
			field("NotResource")
		} else {
			field("Resource")
		}
		writeList(b, st.resource)
	}
	if len(st.conds) > 0 {
		field("Condition")
		b.WriteByte('{')
		for i, c := range st.conds {
			newOp := i == 0 || st.conds[i-1].op != c.op
			if newOp {
				if i > 0 {
					b.WriteString("},")
				}
				writeString(b, c.op)
				b.WriteString(":{")
			} else {
				b.WriteByte(',')
			}
			writeString(b, c.key.name)
			b.WriteByte(':')
			writeList(b, c.values)
		}
		b.WriteString("}}")
	}
	b.WriteByte('}')
}

func writeList(b *bytes.Buffer, l strList) {
	if l.single && len(l.vals) == 1 {
		writeString(b, l.vals[0])
		return
	}
	b.WriteByte('[')
	for i, v := range l.vals {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, v)
	}
	b.WriteByte(']')
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
