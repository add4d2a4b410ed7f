package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/awsapi/sigv4"
)

// The AWS query protocol (STS, IAM): Action, Version and the input's
// members form-encoded in the body or the query string; answers in XML,
// <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>….

// readForm reads a query-protocol call's parameters: the form-encoded
// body, then the URL's query for names the body does not have.
func readForm(r *http.Request, body []byte) (url.Values, *Error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, Errorf("MalformedQueryString", "the request body is not form-encoded: "+err.Error())
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	return form, nil
}

// queryServiceFor finds the query service a call is for: the service its
// SigV4 credential scope names, or, for a call with no readable scope, the
// first whose model has the Action (else the first of all), so that an
// unsigned call is refused in the words of the service it meant.
func (t *serviceTable) queryServiceFor(r *http.Request, form url.Values) *Service {
	if name := scopeService(r); name != "" {
		return t.bySigning[name]
	}
	for _, s := range t.query {
		if _, ok := s.m.Operation(form.Get("Action")); ok {
			return s
		}
	}
	if len(t.query) > 0 {
		return t.query[0]
	}
	return nil
}

// scopeService is the service of a request's SigV4 credential scope, from
// the Authorization header or a presigned URL; "" when there is none.
func scopeService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		if _, after, ok := strings.Cut(h, "Credential="); ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	}
	if parts := strings.Split(strings.TrimSpace(cred), "/"); len(parts) == 5 {
		return parts[3]
	}
	return ""
}

// queryAuthError words an authentication failure the way the query
// services do: they say InvalidClientTokenId (HTTP 403) where the JSON
// services say UnrecognizedClientException, and ExpiredToken where they
// say ExpiredTokenException.
func queryAuthError(e *Error) *Error {
	switch e.Code {
	case sigv4.CodeUnrecognizedClient:
		return &Error{Code: "InvalidClientTokenId", Message: e.Message, Status: http.StatusForbidden}
	case codeExpiredToken:
		return &Error{Code: "ExpiredToken", Message: e.Message, Status: http.StatusForbidden}
	}
	return queryCode(e)
}

// queryCode renames the errors whose names differ on the query protocol.
func queryCode(e *Error) *Error {
	if e.Code == codeServiceUnavailable {
		u := *e
		u.Code = "ServiceUnavailable"
		return &u
	}
	return e
}

// unknownAction answers an Action the service's model does not define.
func unknownAction(s *Service, action string) *Error {
	if action == "" {
		return Errorf("MissingAction", "the request names no Action")
	}
	return Errorf("InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", truncate(action, 100), s.m.Metadata.APIVersion))
}

// formInput turns an operation's form parameters into the JSON types the
// model names (what validation and decoding read): Name, Name.member.N,
// Name.Field, as the query protocol serialises them.
func formInput(md *model.Model, op string, form url.Values) map[string]any {
	o, ok := md.Operation(op)
	if !ok || o.Input == "" {
		return map[string]any{}
	}
	shape, _ := md.Shape(o.Input)
	return formStructure(md, shape, "", form)
}

func formStructure(md *model.Model, shape *model.Shape, prefix string, form url.Values) map[string]any {
	out := map[string]any{}
	for _, mem := range shape.Members {
		key := prefix + mem.Name
		if mem.LocationName != "" {
			key = prefix + mem.LocationName
		}
		target, ok := md.Shape(mem.Shape)
		if !ok {
			continue
		}
		if v, ok := formValue(md, target, key, form); ok {
			out[mem.Name] = v
		}
	}
	return out
}

func formValue(md *model.Model, shape *model.Shape, key string, form url.Values) (any, bool) {
	switch shape.Type {
	case "structure":
		if !hasPrefixKey(form, key+".") {
			return nil, false
		}
		return formStructure(md, shape, key+".", form), true
	case "list":
		elem, ok := md.Shape(shape.Member)
		if !ok {
			return nil, false
		}
		if _, empty := form[key]; empty && !hasPrefixKey(form, key+".") {
			return []any{}, true // botocore sends an empty list as "Name="
		}
		var list []any
		for i := 1; ; i++ {
			v, ok := formValue(md, elem, key+".member."+strconv.Itoa(i), form)
			if !ok {
				break
			}
			list = append(list, v)
		}
		return list, list != nil
	case "map":
		return nil, false // no IAM or STS input Berth serves has one
	}
	vs, ok := form[key]
	if !ok || len(vs) == 0 {
		return nil, false
	}
	v := vs[0]
	switch shape.Type {
	case "integer", "long":
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return json.Number(v), true // as encoding/json's UseNumber reads it
		}
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b, true
		}
	}
	return v, true
}

func hasPrefixKey(form url.Values, prefix string) bool {
	for k := range form {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// writeQueryResult answers in the query protocol's XML form. result, when
// not nil, is encoded as the <ActionResult> element, whatever its type's
// XMLName says.
func writeQueryResult(w http.ResponseWriter, xmlns, action, requestID string, result any) {
	type metadata struct {
		RequestID string `xml:"RequestId"`
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
	err := enc.EncodeToken(start)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(metadata{requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeQueryError(w, internalError("InternalFailure", requestID), xmlns, requestID)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Write([]byte(b.String()))
}

// XMLList is a list as the query protocol sends it:
// <Name><member>…</member>…</Name>, written even when empty.
type XMLList[T any] struct {
	Member []T `xml:"member"`
}

// XMLTime is a timestamp as the query protocol sends it (ISO 8601, UTC).
type XMLTime time.Time

func (t XMLTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(time.RFC3339)), nil
}

// NewXMLTime is t as an XMLTime, or nil for the zero time (left out).
func NewXMLTime(t time.Time) *XMLTime {
	if t.IsZero() {
		return nil
	}
	x := XMLTime(t)
	return &x
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, requestID string) {
	ctx := r.Context()
	if len(s.services.query) == 0 {
		writeQueryError(w, errorf("InvalidAction", "this server answers no service of the query protocol"), "", requestID)
		return
	}
	body, aerr := readBody(r)
	if aerr != nil {
		writeQueryError(w, aerr, s.services.query[0].m.Metadata.XMLNamespace, requestID)
		return
	}
	form, aerr := readForm(r, body)
	if aerr != nil {
		writeQueryError(w, aerr, s.services.query[0].m.Metadata.XMLNamespace, requestID)
		return
	}
	svc := s.services.queryServiceFor(r, form)
	if svc == nil {
		// Signed for a service Berth does not speak the query protocol of.
		svc = s.services.query[0]
	}
	xmlns := svc.m.Metadata.XMLNamespace
	action := form.Get("Action")
	var (
		p      *authn.Principal
		region string
	)
	if op, ok := svc.ops[action]; !ok || !op.Unsigned {
		p, region, aerr = s.authenticate(r, body, svc.m.Metadata.SigningName)
		if aerr != nil {
			writeQueryError(w, queryAuthError(aerr), xmlns, requestID)
			return
		}
	}
	op, served := svc.ops[action]
	if !served {
		if svc.pending[action] {
			writeQueryError(w, svc.notServed(action), xmlns, requestID)
		} else {
			writeQueryError(w, unknownAction(svc, action), xmlns, requestID)
		}
		return
	}
	c := s.newCall(r, requestID, svc, op, p, region)
	input := formInput(svc.m, action, form)
	if err := svc.validate(action, input); err != nil {
		writeQueryError(w, queryCode(s.callError(ctx, c, err)), xmlns, requestID)
		return
	}
	raw, err := json.Marshal(input)
	if err != nil {
		writeQueryError(w, s.callError(ctx, c, fmt.Errorf("re-encode the form: %w", err)), xmlns, requestID)
		return
	}
	out, err := op.run(ctx, c, decodeJSON(raw))
	if err != nil {
		writeQueryError(w, queryCode(s.callError(ctx, c, err)), xmlns, requestID)
		return
	}
	if !svc.hasOutput(action) {
		out = nil
	}
	writeQueryResult(w, xmlns, action, requestID, out)
}
