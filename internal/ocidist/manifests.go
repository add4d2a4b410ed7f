package ocidist

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/berth-registry/berth/internal/registry"
)

func (h *handler) manifest(w http.ResponseWriter, r *http.Request, reg registry.Key, name, ref string) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		m, cached, err := h.pullThroughManifest(r, reg, name, ref)
		if !cached {
			m, err = h.svc.GetManifest(ctx, reg, name, ref)
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if !accepts(r.Header.Values("Accept"), m.MediaType) {
			h.writeError(w, r, &regError{Status: http.StatusNotFound, Code: "MANIFEST_UNKNOWN",
				Message: fmt.Sprintf("manifest %s is of type %s, which the request's Accept header does not list; accept it to pull this manifest", m.Digest, m.MediaType)})
			return
		}
		hd := w.Header()
		hd.Set("Content-Type", m.MediaType)
		hd.Set("Docker-Content-Digest", m.Digest)
		hd.Set("ETag", `"`+m.Digest+`"`)
		hd.Set("Content-Length", itoa(int64(len(m.Content))))
		if match := r.Header.Get("If-None-Match"); match != "" && (match == `"`+m.Digest+`"` || match == m.Digest) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			h.svc.RecordPull(reg, name, m.Digest)
			w.Write(m.Content)
		}
	case http.MethodPut:
		h.putManifest(w, r, reg, name, ref)
	case http.MethodDelete:
		if err := h.svc.DeleteManifest(ctx, reg, name, ref); err != nil {
			h.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
	default:
		h.writeError(w, r, methodNotAllowed("GET, HEAD, PUT, DELETE"))
	}
}

func (h *handler) putManifest(w http.ResponseWriter, r *http.Request, reg registry.Key, name, ref string) {
	limit := h.svc.MaxManifestSize()
	tooLarge := &regError{Status: http.StatusRequestEntityTooLarge, Code: "MANIFEST_INVALID", Message: fmt.Sprintf("manifest is larger than the %d-byte limit", limit)}
	if r.ContentLength > limit {
		h.writeError(w, r, tooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		h.writeError(w, r, &regError{Status: http.StatusBadRequest, Code: "MANIFEST_INVALID", Message: "reading the manifest failed: " + err.Error()})
		return
	}
	if int64(len(body)) > limit {
		h.writeError(w, r, tooLarge)
		return
	}
	pushed, err := h.svc.PutManifest(r.Context(), reg, name, ref, r.Header.Get("Content-Type"), body, r.URL.Query()["tag"])
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Location", "/v2/"+shownName(r.Context(), name)+"/manifests/"+pushed.Digest.String())
	hd.Set("Docker-Content-Digest", pushed.Digest.String())
	if pushed.Subject != "" {
		hd.Set("OCI-Subject", pushed.Subject.String())
	}
	for _, t := range r.URL.Query()["tag"] {
		hd.Add("OCI-Tag", t)
	}
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// accepts reports whether a client's Accept headers admit a manifest of type
// mt. Headers that name no manifest type at all (none, */*, application/json
// from a browser or curl) admit every type, so only a client that lists
// manifest types and leaves this one out is refused.
func accepts(values []string, mt string) bool {
	listsManifests := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			t, _, _ := strings.Cut(part, ";")
			t = strings.TrimSpace(t)
			switch {
			case t == mt || t == "*/*" || t == "application/*":
				return true
			case registry.IsManifestMediaType(t):
				listsManifests = true
			}
		}
	}
	return !listsManifests
}
