package ocidist

import (
	"fmt"
	"io"
	"net/http"

	"github.com/berth-registry/berth/internal/meta"
)

func (h *handler) manifest(w http.ResponseWriter, r *http.Request, reg meta.RegistryKey, name, ref string) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		m, err := h.svc.GetManifest(ctx, reg, name, ref)
		if err != nil {
			h.writeError(w, r, err)
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

func (h *handler) putManifest(w http.ResponseWriter, r *http.Request, reg meta.RegistryKey, name, ref string) {
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
	hd.Set("Location", "/v2/"+name+"/manifests/"+pushed.Digest.String())
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
