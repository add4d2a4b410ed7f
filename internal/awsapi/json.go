package awsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The AWS JSON protocol (ECR, ECR Public): POST / with X-Amz-Target
// "<prefix>.<Operation>" and the input as a JSON object; the answer is the
// output as a JSON object, an error is {"__type", "message"}.

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, requestID, target string) {
	ctx := r.Context()
	svc, opName := s.services.jsonService(target)
	if svc == nil {
		writeJSONError(w, errorf("UnknownOperationException", fmt.Sprintf("X-Amz-Target %q names no operation of a service Berth serves", truncate(target, 200))))
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, errorf("UnknownOperationException", "AWS JSON API calls are POST requests"))
		return
	}
	body, aerr := readBody(r)
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	p, region, aerr := s.authenticate(r, body, svc.m.Metadata.SigningName)
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	op, served := svc.ops[opName]
	if !served {
		if svc.pending[opName] {
			writeJSONError(w, svc.notServed(opName))
		} else {
			writeJSONError(w, errorf("UnknownOperationException", fmt.Sprintf("%s has no operation %q", svc.Name, truncate(opName, 100))))
		}
		return
	}
	c := s.newCall(r, requestID, svc, op, p, region)
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := validateJSON(svc, opName, body); err != nil {
		writeJSONError(w, s.callError(ctx, c, err))
		return
	}
	out, err := op.run(ctx, c, decodeJSON(body))
	if err != nil {
		writeJSONError(w, s.callError(ctx, c, err))
		return
	}
	if out == nil || !svc.hasOutput(opName) {
		out = struct{}{}
	}
	resp, err := json.Marshal(out)
	if err != nil {
		writeJSONError(w, s.callError(ctx, c, fmt.Errorf("encode %s output: %w", opName, err)))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-"+svc.m.Metadata.JSONVersion)
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
}

// jsonService finds the JSON service a target names, and the operation.
func (t *serviceTable) jsonService(target string) (*Service, string) {
	dot := strings.LastIndexByte(target, '.')
	if dot < 0 {
		return nil, ""
	}
	return t.byTarget[target[:dot+1]], target[dot+1:]
}

// validateJSON checks a JSON input against the model.
func validateJSON(svc *Service, op string, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var input map[string]any
	if err := dec.Decode(&input); err != nil || input == nil {
		return errorf("SerializationException", "the request body must be a JSON object")
	}
	return svc.validate(op, input)
}

// EpochTime is a timestamp as the JSON protocol sends it: seconds since
// the epoch, with milliseconds.
type EpochTime time.Time

func (t EpochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// NewEpochTime is t as an EpochTime, or nil for the zero time (left out).
func NewEpochTime(t time.Time) *EpochTime {
	if t.IsZero() {
		return nil
	}
	e := EpochTime(t)
	return &e
}

// Truncate shortens s to n bytes and an ellipsis, for echoing what a
// caller sent in a message.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func truncate(s string, n int) string { return Truncate(s, n) }
