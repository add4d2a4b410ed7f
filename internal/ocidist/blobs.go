package ocidist

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/blobsend"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

func (h *handler) blob(w http.ResponseWriter, r *http.Request, reg registry.Key, name, ref string) {
	d, err := registry.ParseDigest(ref)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if h.pullThroughBlob(w, r, reg, name, d) {
			return
		}
		if r.Method == http.MethodGet {
			// As ECR does, the bytes may come from the blob store itself.
			if url, ok, err := h.svc.BlobRedirect(ctx, reg, name, d); err != nil {
				h.writeError(w, r, err)
				return
			} else if ok {
				w.Header().Set("Docker-Content-Digest", d.String())
				w.Header().Set("Location", url)
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusTemporaryRedirect)
				return
			}
		}
		rc, _, err := h.svc.OpenBlob(ctx, reg, name, d)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		defer rc.Close()
		hd := w.Header()
		hd.Set("Content-Type", "application/octet-stream")
		hd.Set("Docker-Content-Digest", d.String())
		hd.Set("ETag", `"`+d.String()+`"`)
		hd.Set("Cache-Control", "max-age=31536000")
		// ServeContent answers Range and conditional requests; blobsend
		// picks sendfile or a copy for the filesystem store's *os.File.
		http.ServeContent(blobsend.Writer(w, r), r, "", time.Time{}, rc)
	case http.MethodDelete:
		if err := h.svc.DeleteBlob(ctx, reg, name, d); err != nil {
			h.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
	default:
		h.writeError(w, r, methodNotAllowed("GET, HEAD, DELETE"))
	}
}

func uploadLocation(r *http.Request, name, id string) string {
	return "/v2/" + shownName(r.Context(), name) + "/blobs/uploads/" + id
}

// writeUploadState answers with where an upload stands.
func writeUploadState(w http.ResponseWriter, r *http.Request, u *registry.Upload, status int) {
	hd := w.Header()
	hd.Set("Location", uploadLocation(r, u.Repo, u.ID))
	hd.Set("Docker-Upload-UUID", u.ID)
	end := u.Offset - 1
	if end < 0 {
		end = 0
	}
	hd.Set("Range", "0-"+strconv.FormatInt(end, 10))
	hd.Set("Content-Length", "0")
	w.WriteHeader(status)
}

func writeBlobCreated(w http.ResponseWriter, r *http.Request, name string, d digest.Digest) {
	hd := w.Header()
	hd.Set("Location", "/v2/"+shownName(r.Context(), name)+"/blobs/"+d.String())
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// startUpload handles POST /v2/<name>/blobs/uploads/: a mount, a
// monolithic push, or the start of a session.
func (h *handler) startUpload(w http.ResponseWriter, r *http.Request, reg registry.Key, name string) {
	if r.Method != http.MethodPost {
		h.writeError(w, r, methodNotAllowed("POST"))
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	if m := q.Get("mount"); m != "" {
		d, err := registry.ParseDigest(m)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		from := q.Get("from")
		if pub := publicFrom(ctx); pub != nil {
			// Every public repository is readable by anyone: a source
			// needs no check, only translating from <alias>/<name>; one
			// of another registry leaves the choice to this registry.
			from = pub.localName(from)
		} else if from != "" {
			if err := h.authorizeMountSource(ctx, r, principalFrom(ctx), reg, from); err != nil {
				h.writeError(w, r, err)
				return
			}
		}
		ok, err := h.svc.MountBlob(ctx, reg, name, d, from)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if ok {
			writeBlobCreated(w, r, name, d)
			return
		}
		// Not mountable: start a session instead, as the spec asks.
	}
	if dg := q.Get("digest"); dg != "" {
		d, err := registry.ParseDigest(dg)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if err := h.checkLength(r); err != nil {
			h.writeError(w, r, err)
			return
		}
		if err := h.svc.PutBlob(ctx, reg, name, d, r.Body); err != nil {
			h.writeError(w, r, err)
			return
		}
		writeBlobCreated(w, r, name, d)
		return
	}
	u, err := h.svc.StartUpload(ctx, reg, name)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeUploadState(w, r, u, http.StatusAccepted)
}

// checkLength refuses a declared body larger than any blob may be before
// reading a byte of it.
func (h *handler) checkLength(r *http.Request) error {
	if r.ContentLength > registry.DefaultMaxBlobSize {
		return &regError{Status: http.StatusRequestEntityTooLarge, Code: "SIZE_INVALID", Message: fmt.Sprintf("a blob may be at most %d bytes", int64(registry.DefaultMaxBlobSize))}
	}
	return nil
}

// parseContentRange reads a chunk's "<start>-<end>" Content-Range. It
// returns -1 when the header is absent.
func parseContentRange(r *http.Request) (int64, error) {
	v := r.Header.Get("Content-Range")
	if v == "" {
		return -1, nil
	}
	v = strings.TrimPrefix(v, "bytes ")
	a, b, ok := strings.Cut(v, "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(strings.SplitN(b, "/", 2)[0], 10, 64)
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, &regError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "BLOB_UPLOAD_INVALID", Message: fmt.Sprintf("Content-Range %q is not of the form <start>-<end>", v)}
	}
	if r.ContentLength >= 0 && r.ContentLength != end-start+1 {
		return 0, &regError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "BLOB_UPLOAD_INVALID", Message: fmt.Sprintf("Content-Range %d-%d is %d bytes but Content-Length is %d", start, end, end-start+1, r.ContentLength)}
	}
	return start, nil
}

func (h *handler) upload(w http.ResponseWriter, r *http.Request, reg registry.Key, name, id string) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		u, err := h.svc.UploadStatus(ctx, reg, name, id)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeUploadState(w, r, u, http.StatusNoContent)
	case http.MethodPatch:
		start, err := parseContentRange(r)
		if err == nil {
			err = h.checkLength(r)
		}
		if err != nil {
			h.writeRangeError(w, r, reg, name, id, err)
			return
		}
		u, err := h.svc.AppendUpload(ctx, reg, name, id, start, r.Body)
		if err != nil {
			h.writeRangeError(w, r, reg, name, id, err)
			return
		}
		writeUploadState(w, r, u, http.StatusAccepted)
	case http.MethodPut:
		dg := r.URL.Query().Get("digest")
		if dg == "" {
			h.writeError(w, r, &regError{Status: http.StatusBadRequest, Code: "DIGEST_INVALID", Message: "the digest query parameter is required to complete an upload"})
			return
		}
		d, err := registry.ParseDigest(dg)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		start, err := parseContentRange(r)
		if err == nil {
			err = h.checkLength(r)
		}
		if err != nil {
			h.writeRangeError(w, r, reg, name, id, err)
			return
		}
		if err := h.svc.CompleteUpload(ctx, reg, name, id, start, r.Body, d); err != nil {
			h.writeRangeError(w, r, reg, name, id, err)
			return
		}
		writeBlobCreated(w, r, name, d)
	case http.MethodDelete:
		if err := h.svc.CancelUpload(ctx, reg, name, id); err != nil {
			h.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
	default:
		h.writeError(w, r, methodNotAllowed("GET, PATCH, PUT, DELETE"))
	}
}

// writeRangeError adds the upload's Location and Range to a 416, so that a
// client can resume from where the upload really stands.
func (h *handler) writeRangeError(w http.ResponseWriter, r *http.Request, reg registry.Key, name, id string, err error) {
	if re := toRegError(err); re.Status == http.StatusRequestedRangeNotSatisfiable {
		if u, serr := h.svc.UploadStatus(r.Context(), reg, name, id); serr == nil {
			end := u.Offset - 1
			if end < 0 {
				end = 0
			}
			w.Header().Set("Location", uploadLocation(r, name, id))
			w.Header().Set("Range", "0-"+strconv.FormatInt(end, 10))
			w.Header().Set("Docker-Upload-UUID", id)
		}
	}
	h.writeError(w, r, err)
}
