package awsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/awsapi/model"
)

// The AWS REST-JSON protocol (IAM Identity Center's OIDC and portal): an
// operation is a method and a URI template of the model ("GET
// /federation/credentials"); its input members are bound to the path,
// the query string and headers where the model says (location,
// locationName), and the rest travel as a JSON body. The answer is the
// output as JSON; an error is {"message": …} with its name in the
// X-Amzn-ErrorType header and the status the model gives the exception.

// restRoute is one operation of a REST service.
type restRoute struct {
	svc    *Service
	op     string
	method string
	// segments are the path's, each a literal or a "{label}" ("{label+}"
	// takes the rest of the path).
	segments []string
	// query is the template's literal query ("/token?aws_iam=t"): the
	// request must carry each.
	query url.Values
}

func newRESTRoute(svc *Service, op *model.Operation) (*restRoute, error) {
	path, rawQuery, _ := strings.Cut(op.RequestURI, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("service %s: operation %s: request URI %q: %w", svc.Name, op.Name, op.RequestURI, err)
	}
	return &restRoute{svc: svc, op: op.Name, method: op.HTTPMethod, segments: strings.Split(strings.TrimPrefix(path, "/"), "/"), query: q}, nil
}

// match reports whether r is a call of the route, and the path's labels.
func (rt *restRoute) match(r *http.Request) (map[string]string, bool) {
	if r.Method != rt.method {
		return nil, false
	}
	for k, want := range rt.query {
		if got, ok := r.URL.Query()[k]; !ok || (len(want) > 0 && want[0] != "" && !slices.Contains(got, want[0])) {
			return nil, false
		}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	labels := map[string]string{}
	for i, seg := range rt.segments {
		label, isLabel := strings.CutPrefix(seg, "{")
		if isLabel && strings.HasSuffix(label, "+}") {
			if i >= len(parts) {
				return nil, false
			}
			v, err := url.PathUnescape(strings.Join(parts[i:], "/"))
			if err != nil {
				return nil, false
			}
			labels[strings.TrimSuffix(label, "+}")] = v
			return labels, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if isLabel {
			v, err := url.PathUnescape(parts[i])
			if err != nil || v == "" {
				return nil, false
			}
			labels[strings.TrimSuffix(label, "}")] = v
			continue
		}
		if parts[i] != seg {
			return nil, false
		}
	}
	return labels, len(parts) == len(rt.segments)
}

// restRoute finds the REST operation r calls: routes with literal query
// parameters first, so that "/token?aws_iam=t" is not taken for "/token".
func (t *serviceTable) restRoute(r *http.Request) (*restRoute, map[string]string) {
	for _, rt := range t.rest {
		if labels, ok := rt.match(r); ok {
			return rt, labels
		}
	}
	return nil, nil
}

func (t *serviceTable) addREST(s *Service) error {
	for _, name := range s.m.Operations() {
		op, _ := s.m.Operation(name)
		rt, err := newRESTRoute(s, op)
		if err != nil {
			return err
		}
		t.rest = append(t.rest, rt)
	}
	slices.SortStableFunc(t.rest, func(a, b *restRoute) int { return len(b.query) - len(a.query) })
	return nil
}

// IsRESTRequest tells a call of a REST-JSON operation Berth answers (by
// its method and path) from anything else.
func (s *Server) IsRESTRequest(r *http.Request) bool {
	rt, _ := s.services.restRoute(r)
	return rt != nil
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, requestID string) {
	ctx := r.Context()
	rt, labels := s.services.restRoute(r)
	if rt == nil {
		writeRESTError(w, nil, &Error{Code: "UnknownOperationException", Status: http.StatusNotFound, Message: "no operation of a service Berth serves has this method and path"})
		return
	}
	svc, opName := rt.svc, rt.op
	body, aerr := readBody(r)
	if aerr != nil {
		writeRESTError(w, svc, aerr)
		return
	}
	var (
		p      *authn.Principal
		region string
	)
	op, served := svc.ops[opName]
	if !served || !op.Unsigned {
		p, region, aerr = s.authenticate(r, body, svc.m.Metadata.SigningName)
		if aerr != nil {
			writeRESTError(w, svc, aerr)
			return
		}
	}
	if !served {
		writeRESTError(w, svc, svc.notServed(opName))
		return
	}
	c := s.newCall(r, requestID, svc, op, p, region)
	input, aerr := restInput(svc.m, opName, r, labels, body)
	if aerr != nil {
		writeRESTError(w, svc, aerr)
		return
	}
	if err := svc.validate(opName, input); err != nil {
		writeRESTError(w, svc, s.callError(ctx, c, err))
		return
	}
	raw, err := json.Marshal(input)
	if err != nil {
		writeRESTError(w, svc, s.callError(ctx, c, fmt.Errorf("re-encode the input: %w", err)))
		return
	}
	out, err := op.run(ctx, c, decodeJSON(raw))
	if err != nil {
		writeRESTError(w, svc, s.callError(ctx, c, err))
		return
	}
	if out == nil || !svc.hasOutput(opName) {
		out = struct{}{}
	}
	resp, err := json.Marshal(out)
	if err != nil {
		writeRESTError(w, svc, s.callError(ctx, c, fmt.Errorf("encode %s output: %w", opName, err)))
		return
	}
	status := http.StatusOK
	if mo, ok := svc.m.Operation(opName); ok && mo.ResponseCode != 0 {
		status = mo.ResponseCode
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	w.WriteHeader(status)
	w.Write(resp)
}

// restInput gathers an operation's input from where the model binds each
// member: the JSON body, the path's labels, the query string, headers.
// Values outside the body arrive as text and take their member's type.
func restInput(md *model.Model, op string, r *http.Request, labels map[string]string, body []byte) (map[string]any, *Error) {
	input := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&input); err != nil || input == nil {
			return nil, errorf("SerializationException", "the request body must be a JSON object")
		}
	}
	o, ok := md.Operation(op)
	if !ok || o.Input == "" {
		return input, nil
	}
	shape, _ := md.Shape(o.Input)
	for _, mem := range shape.Members {
		if mem.Location == "" {
			continue
		}
		// A member bound outside the body is never read from it.
		delete(input, mem.Name)
		name := mem.LocationName
		if name == "" {
			name = mem.Name
		}
		target, _ := md.Shape(mem.Shape)
		var (
			raw   []string
			found bool
		)
		switch mem.Location {
		case "uri":
			v, ok := labels[name]
			raw, found = []string{v}, ok
		case "querystring":
			raw, found = r.URL.Query()[name]
		case "header":
			raw, found = r.Header.Values(name), r.Header.Get(name) != ""
		}
		if !found || len(raw) == 0 {
			continue
		}
		v, err := typedValue(md, target, raw)
		if err != nil {
			return nil, errorf("SerializationException", fmt.Sprintf("%s %q: %v", mem.Location, name, err))
		}
		input[mem.Name] = v
	}
	return input, nil
}

// typedValue is text from a URI, query string or header as the JSON value
// of its shape's type.
func typedValue(md *model.Model, shape *model.Shape, raw []string) (any, error) {
	if shape == nil {
		return raw[0], nil
	}
	switch shape.Type {
	case "list":
		elem, _ := md.Shape(shape.Member)
		out := make([]any, 0, len(raw))
		for _, v := range raw {
			e, err := typedValue(md, elem, []string{v})
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case "integer", "long":
		if _, err := strconv.ParseInt(raw[0], 10, 64); err != nil {
			return nil, fmt.Errorf("not an integer")
		}
		return json.Number(raw[0]), nil
	case "float", "double":
		if _, err := strconv.ParseFloat(raw[0], 64); err != nil {
			return nil, fmt.Errorf("not a number")
		}
		return json.Number(raw[0]), nil
	case "boolean":
		b, err := strconv.ParseBool(raw[0])
		if err != nil {
			return nil, fmt.Errorf("not a boolean")
		}
		return b, nil
	}
	return raw[0], nil
}

// writeRESTError answers in the REST-JSON error form. An exception the
// service's model defines is sent with the model's HTTP status.
func writeRESTError(w http.ResponseWriter, svc *Service, e *Error) {
	status := e.Status
	if svc != nil {
		if shape, ok := svc.m.Shape(e.Code); ok && shape.Exception && shape.HTTPCode != 0 {
			status = shape.HTTPCode
		}
	}
	fields := map[string]any{}
	for k, v := range e.Members {
		fields[k] = v
	}
	fields["message"] = e.Message
	body, _ := json.Marshal(fields)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(status)
	w.Write(body)
}
