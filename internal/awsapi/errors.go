package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
)

// Error is an AWS error on the wire: the exception name sent as __type (or
// as <Code> on the query protocol), its message and HTTP status.
type Error struct {
	Code    string
	Message string
	Status  int
	// Members are the exception's other members in the model, sent beside
	// __type and message on the JSON protocol (InvalidLayerPartException's
	// lastValidByteReceived, say).
	Members map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a client error (status 400) with the exception name code.
func Errorf(code, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: http.StatusBadRequest}
}

// errorf is Errorf, for the package's own use.
func errorf(code, msg string) *Error { return Errorf(code, msg) }

// ErrorRow words one kind of a domain's errors as a service's error.
type ErrorRow struct {
	Kind   error
	Code   string
	Status int
}

// DomainErrors is a Service's Errors made from its error table: an error
// of the domain's type E (whose Error is the message to send) that wraps a
// row's Kind is answered with the row's code and status. Anything else,
// a kind with no row included, is nil: a server fault.
func DomainErrors[E error](table []ErrorRow) func(error) *Error {
	return func(err error) *Error {
		var de E
		if !errors.As(err, &de) {
			return nil
		}
		for _, row := range table {
			if errors.Is(err, row.Kind) {
				return &Error{Code: row.Code, Message: de.Error(), Status: row.Status}
			}
		}
		return nil
	}
}

// internalError is a server fault as the client sees it: the exception
// code, and where to find the cause.
func internalError(code, requestID string) *Error {
	return &Error{Code: code, Status: http.StatusInternalServerError,
		Message: "internal server error (request id " + requestID + "); the server log has the cause"}
}

// writeJSONError answers in the AWS JSON error form.
func writeJSONError(w http.ResponseWriter, e *Error) {
	fields := map[string]any{}
	for k, v := range e.Members {
		fields[k] = v
	}
	fields["__type"], fields["message"] = e.Code, e.Message
	body, _ := json.Marshal(fields)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	w.Write(body)
}

type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// writeQueryError answers in the AWS query protocol's XML error form.
func writeQueryError(w http.ResponseWriter, e *Error, xmlns, requestID string) {
	var resp queryErrorResponse
	resp.Xmlns = xmlns
	resp.Error.Type = "Sender"
	if e.Status >= 500 {
		resp.Error.Type = "Receiver"
	}
	resp.Error.Code, resp.Error.Message, resp.RequestID = e.Code, e.Message, requestID
	body, _ := xml.Marshal(resp)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
