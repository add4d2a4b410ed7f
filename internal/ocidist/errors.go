package ocidist

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
)

// regError is an error on the wire: an HTTP status and an OCI error code.
type regError struct {
	Status  int
	Code    string
	Message string
	Detail  any
	// Allow lists the methods a 405 answer allows.
	Allow string
}

func (e *regError) Error() string { return e.Code + ": " + e.Message }

// errorTable maps each domain error kind to its status and OCI code, in one
// place; every kind has a row (TestErrorTableCoversKinds). The kinds only
// the ECR API's operations produce answer UNSUPPORTED should one ever
// reach the data plane.
var errorTable = map[error]struct {
	status int
	code   string
}{
	registry.ErrNameInvalid:                {http.StatusBadRequest, "NAME_INVALID"},
	registry.ErrNameUnknown:                {http.StatusNotFound, "NAME_UNKNOWN"},
	registry.ErrBlobUnknown:                {http.StatusNotFound, "BLOB_UNKNOWN"},
	registry.ErrBlobUploadBusy:             {http.StatusConflict, "BLOB_UPLOAD_INVALID"},
	registry.ErrBlobUploadUnknown:          {http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN"},
	registry.ErrRangeInvalid:               {http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID"},
	registry.ErrDigestInvalid:              {http.StatusBadRequest, "DIGEST_INVALID"},
	registry.ErrSizeInvalid:                {http.StatusBadRequest, "SIZE_INVALID"},
	registry.ErrTooLarge:                   {http.StatusRequestEntityTooLarge, "SIZE_INVALID"},
	registry.ErrManifestUnknown:            {http.StatusNotFound, "MANIFEST_UNKNOWN"},
	registry.ErrManifestInvalid:            {http.StatusBadRequest, "MANIFEST_INVALID"},
	registry.ErrManifestBlobUnknown:        {http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"},
	registry.ErrManifestReferenced:         {http.StatusConflict, "DENIED"},
	registry.ErrTagInvalid:                 {http.StatusBadRequest, "TAG_INVALID"},
	registry.ErrTagImmutable:               {http.StatusBadRequest, "TAG_INVALID"},
	registry.ErrPaginationInvalid:          {http.StatusBadRequest, "PAGINATION_NUMBER_INVALID"},
	registry.ErrImageIDInvalid:             {http.StatusBadRequest, "MANIFEST_INVALID"},
	registry.ErrImageExists:                {http.StatusConflict, "DENIED"},
	registry.ErrImageDigestMismatch:        {http.StatusBadRequest, "DIGEST_INVALID"},
	registry.ErrReferencedImageUnknown:     {http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"},
	registry.ErrLayerInaccessible:          {http.StatusNotFound, "BLOB_UNKNOWN"},
	registry.ErrRepositoryExists:           {http.StatusConflict, "DENIED"},
	registry.ErrRepositoryNotEmpty:         {http.StatusConflict, "DENIED"},
	registry.ErrParameterInvalid:           {http.StatusBadRequest, "UNSUPPORTED"},
	registry.ErrResourceTagInvalid:         {http.StatusBadRequest, "UNSUPPORTED"},
	registry.ErrTooManyResourceTags:        {http.StatusBadRequest, "UNSUPPORTED"},
	registry.ErrRepositoryPolicyNotFound:   {http.StatusNotFound, "UNSUPPORTED"},
	registry.ErrRegistryPolicyNotFound:     {http.StatusNotFound, "UNSUPPORTED"},
	registry.ErrPolicyInvalid:              {http.StatusBadRequest, "UNSUPPORTED"},
	registry.ErrLifecyclePolicyInvalid:     {http.StatusBadRequest, "UNSUPPORTED"},
	registry.ErrLifecyclePolicyNotFound:    {http.StatusNotFound, "UNSUPPORTED"},
	registry.ErrLifecyclePreviewNotFound:   {http.StatusNotFound, "UNSUPPORTED"},
	registry.ErrLifecyclePreviewInProgress: {http.StatusConflict, "UNSUPPORTED"},
	registry.ErrTemplateExists:             {http.StatusConflict, "UNSUPPORTED"},
	registry.ErrTemplateNotFound:           {http.StatusNotFound, "UNSUPPORTED"},
	registry.ErrLimitExceeded:              {http.StatusBadRequest, "UNSUPPORTED"},
}

// toRegError turns any error into what the client sees. Errors the table
// does not know are server faults: the client gets a generic message and
// the log gets the cause.
func toRegError(err error) *regError {
	var re *regError
	if errors.As(err, &re) {
		return re
	}
	if unavailable(err) {
		return &regError{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE",
			Message: "Berth cannot reach its metadata or blob store right now; the request may not have taken effect. Try again shortly"}
	}
	if kind, msg, detail, ok := registry.KindOf(err); ok {
		if t, ok := errorTable[kind]; ok {
			return &regError{Status: t.status, Code: t.code, Message: msg, Detail: detail}
		}
	}
	if kind, msg, ok := pullthrough.KindOf(err); ok {
		if t, ok := pullThroughErrors[kind]; ok {
			return &regError{Status: t.status, Code: t.code, Message: msg}
		}
	}
	return &regError{Status: http.StatusInternalServerError, Code: "UNKNOWN", Message: "internal server error"}
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError renders every error envelope and logs it.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	re := toRegError(err)
	level := slog.LevelDebug
	switch {
	case re.Status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
		re.Message += " (request id " + w.Header().Get("X-Request-Id") + ")"
	case re.Status == http.StatusBadGateway:
		// An upstream's failure (pull through cache): its message is
		// the client's to read.
		level = slog.LevelWarn
	case re.Status >= 500:
		level = slog.LevelError
		re.Message = "internal server error (request id " + w.Header().Get("X-Request-Id") + "); the server log has the cause"
	}
	h.log.Log(r.Context(), level, "request failed", "method", r.Method, "path", r.URL.Path, "status", re.Status, "code", re.Code, "err", err)
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{Code: re.Code, Message: re.Message, Detail: re.Detail}}})
	if re.Allow != "" {
		w.Header().Set("Allow", re.Allow)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(re.Status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// unavailable reports whether err says a store Berth depends on cannot be
// reached (its Unavailable method; meta.ErrUnavailable has one): not the
// client's fault, and it may pass.
func unavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}
