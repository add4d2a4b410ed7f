package ecrpublicapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/berth-registry/berth/internal/registry"
)

// LogoPath prefixes the logoUrl of catalog data: LogoPath +
// <account>/<digest>. The server routes it to LogoHandler.
const LogoPath = "/_berth/public-logo/"

var logoDigestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// LogoHandler serves repositories' logos at LogoPath + "{account}/{digest}"
// to anyone, as the gallery shows them: a public registry's catalog data
// is public. A logo is named by its digest, so it never changes and may
// be cached for good.
func (a *API) LogoHandler() http.Handler {
	return http.HandlerFunc(a.serveLogo)
}

func (a *API) serveLogo(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			fmt.Fprintln(w, msg)
		}
	}
	account, d := r.PathValue("account"), r.PathValue("digest")
	if !accountIDRE.MatchString(account) || !logoDigestRE.MatchString(d) {
		fail(http.StatusNotFound, "no such logo: a logo URL is "+LogoPath+"<account id>/sha256:<hex digest>")
		return
	}
	b, err := a.reg.Logo(r.Context(), registry.PublicRegistry(account), d)
	if errors.Is(err, registry.ErrBlobUnknown) {
		fail(http.StatusNotFound, "no such logo in the public registry of account "+account)
		return
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "read logo", "account", account, "digest", d, "err", err)
		fail(http.StatusInternalServerError, "internal server error; the server log has the cause")
		return
	}
	// Stored logos were checked to be PNG or JPEG (registry.checkLogo).
	w.Header().Set("Content-Type", http.DetectContentType(b))
	w.Header().Set("ETag", `"`+d+`"`)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
