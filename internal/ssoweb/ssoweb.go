// Package ssoweb is IAM Identity Center's web pages: the verification
// page where a person approves a CLI's sign-in (the device flow's
// verificationUri, <public-url>/device) and the start page the profiles'
// sso_start_url names (<public-url>/start).
//
// The pages are plain HTML forms, with no script and no external assets.
// A form post carries a CSRF token that is an HMAC of a random cookie
// value under a key every node derives alike (the double-submit pattern,
// signed), so any node accepts a form another node served and nothing is
// kept in a process. A failed sign-in says only that the name or the
// password is wrong.
package ssoweb

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/sso"
)

// Domain is what the pages ask of Identity Center (sso.Service has it).
type Domain interface {
	PendingDevice(ctx context.Context, userCode string) (*meta.SSODeviceAuthorization, error)
	Authenticate(ctx context.Context, userName, password string) (*meta.SSOUser, error)
	ApproveDevice(ctx context.Context, userCode, userName string) error
	StartURL() string
}

// Pages serves the pages.
type Pages struct {
	sso Domain
	key []byte
	log *slog.Logger
}

// New returns the pages; key signs CSRF tokens and must be the same on
// every node (derive it from the token key).
func New(d Domain, key []byte, log *slog.Logger) *Pages {
	if log == nil {
		log = slog.Default()
	}
	return &Pages{sso: d, key: key, log: log}
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// csrfCookie holds the random half of the CSRF token.
const csrfCookie = "berth_sso_csrf"

// maxFormBytes bounds a form post.
const maxFormBytes = 16 << 10

type devicePage struct {
	UserCode, UserName, CSRF, Error string
	Approved                        bool
}

// Register adds the pages to mux.
func (p *Pages) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /device", p.showDevice)
	mux.HandleFunc("POST /device", p.approveDevice)
	mux.HandleFunc("GET /start", p.showStart)
}

// IsPage tells the pages' paths, which must reach the mux before the API
// front door (a form post looks like a query-protocol call).
func IsPage(r *http.Request) bool {
	return r.URL.Path == "/device" || r.URL.Path == "/start"
}

func (p *Pages) showDevice(w http.ResponseWriter, r *http.Request) {
	page := devicePage{UserCode: sso.NormalizeUserCode(r.URL.Query().Get("user_code")), CSRF: p.csrf(w, r)}
	p.render(w, http.StatusOK, "device.html", page)
}

func (p *Pages) approveDevice(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	page := devicePage{UserCode: sso.NormalizeUserCode(r.PostForm.Get("user_code")), UserName: strings.TrimSpace(r.PostForm.Get("username"))}
	if !p.validCSRF(r, r.PostForm.Get("csrf")) {
		page.CSRF = p.csrf(w, r)
		page.Error = "This form has expired. Enter your details again."
		p.render(w, http.StatusForbidden, "device.html", page)
		return
	}
	page.CSRF = r.PostForm.Get("csrf")
	ctx := r.Context()
	fail := func(status int, msg string) {
		page.Error = msg
		p.render(w, status, "device.html", page)
	}
	if page.UserCode == "" || page.UserName == "" || r.PostForm.Get("password") == "" {
		fail(http.StatusBadRequest, "Enter the code, your user name and your password.")
		return
	}
	if _, err := p.sso.PendingDevice(ctx, page.UserCode); err != nil {
		p.domainError(ctx, err, fail)
		return
	}
	u, err := p.sso.Authenticate(ctx, page.UserName, r.PostForm.Get("password"))
	if err != nil {
		p.domainError(ctx, err, fail)
		return
	}
	if err := p.sso.ApproveDevice(ctx, page.UserCode, u.UserName); err != nil {
		p.domainError(ctx, err, fail)
		return
	}
	p.render(w, http.StatusOK, "approved.html", devicePage{UserCode: page.UserCode, UserName: u.UserName, Approved: true})
}

// domainError shows a refusal in the domain's words, and a fault as a
// fault (logged).
func (p *Pages) domainError(ctx context.Context, err error, fail func(int, string)) {
	var se *sso.Error
	switch {
	case errors.As(err, &se) && errors.Is(err, sso.ErrAccessDenied):
		fail(http.StatusUnauthorized, se.Message)
	case errors.As(err, &se):
		fail(http.StatusBadRequest, se.Message)
	default:
		p.log.ErrorContext(ctx, "sso device page", "err", err)
		fail(http.StatusInternalServerError, "Berth could not complete the sign-in. Try again shortly.")
	}
}

func (p *Pages) showStart(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "start.html", struct{ StartURL string }{p.sso.StartURL()})
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Nothing of the page comes from elsewhere, and nothing may frame it
	// (clickjacking the approval).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, name, data); err != nil {
		p.log.Error("render sso page", "page", name, "err", err)
	}
}

// csrf is the token for the form: the HMAC of the cookie's random value,
// set now when the browser has none.
func (p *Pages) csrf(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	value := ""
	if err == nil && len(c.Value) >= 32 {
		value = c.Value
	} else {
		b := make([]byte, 32)
		rand.Read(b)
		value = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: value, Path: "/device", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	}
	return p.sign(value)
}

func (p *Pages) sign(value string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("berth sso device form\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Pages) validCSRF(r *http.Request, token string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(p.sign(c.Value)), []byte(token))
}
