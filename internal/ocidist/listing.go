package ocidist

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/berth-registry/berth/internal/registry"
)

// pageParams reads n and last; n defaults to a full page.
func pageParams(r *http.Request) (string, int, error) {
	q := r.URL.Query()
	n := registry.MaxPageSize
	if v := q.Get("n"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return "", 0, &regError{Status: http.StatusBadRequest, Code: "PAGINATION_NUMBER_INVALID", Message: "n must be a whole number from 0 to " + strconv.Itoa(registry.MaxPageSize)}
		}
		n = min(i, registry.MaxPageSize)
	}
	return q.Get("last"), n, nil
}

func writeJSON(w http.ResponseWriter, r *http.Request, contentType string, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func nextLink(path string, n int, last string) string {
	q := url.Values{"n": {strconv.Itoa(n)}, "last": {last}}
	return "<" + path + "?" + q.Encode() + `>; rel="next"`
}

func (h *handler) tags(w http.ResponseWriter, r *http.Request, reg registry.Key, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeError(w, r, methodNotAllowed("GET"))
		return
	}
	last, n, err := pageParams(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	tags, more, err := h.svc.ListTags(r.Context(), reg, name, last, n)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if more {
		w.Header().Set("Link", nextLink("/v2/"+shownName(r.Context(), name)+"/tags/list", n, tags[len(tags)-1]))
	}
	writeJSON(w, r, "application/json", struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{shownName(r.Context(), name), tags})
}

func (h *handler) catalog(w http.ResponseWriter, r *http.Request, reg registry.Key) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeError(w, r, methodNotAllowed("GET"))
		return
	}
	last, n, err := pageParams(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	repos, more, err := h.svc.Catalog(r.Context(), reg, last, n)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if more {
		w.Header().Set("Link", nextLink("/v2/_catalog", n, repos[len(repos)-1]))
	}
	writeJSON(w, r, "application/json", struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

type referrerDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

func (h *handler) referrers(w http.ResponseWriter, r *http.Request, reg registry.Key, name, ref string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeError(w, r, methodNotAllowed("GET"))
		return
	}
	d, err := registry.ParseDigest(ref)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	artifactType := r.URL.Query().Get("artifactType")
	refs, err := h.svc.Referrers(r.Context(), reg, name, d, artifactType)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	descs := make([]referrerDescriptor, 0, len(refs))
	for _, x := range refs {
		descs = append(descs, referrerDescriptor{x.MediaType, x.Digest, x.Size, x.ArtifactType, x.Annotations})
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(w, r, registry.MediaTypeOCIIndex, struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Manifests     []referrerDescriptor `json:"manifests"`
	}{2, registry.MediaTypeOCIIndex, descs})
}
