package registry

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestPublicAlias(t *testing.T) {
	for _, tc := range []struct {
		alias, account string
		ok             bool
	}{
		{DefaultPublicAlias("000000000000"), "000000000000", true},
		{"b123456789012", "123456789012", true},
		{"b12345678901", "", false},
		{"a123456789012", "", false},
		{"b12345678901x", "", false},
		{"myalias", "", false},
	} {
		acct, ok := PublicAccountOf(tc.alias)
		if acct != tc.account || ok != tc.ok {
			t.Errorf("PublicAccountOf(%q) = %q, %v; want %q, %v", tc.alias, acct, ok, tc.account, tc.ok)
		}
	}
}

func TestCheckLogo(t *testing.T) {
	var pngBytes bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.Black)
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		logo []byte
		ok   bool
	}{
		{"png", pngBytes.Bytes(), true},
		{"text", []byte("not an image"), false},
		{"truncated png", pngBytes.Bytes()[:10], false},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), false},
	} {
		if err := checkLogo(tc.logo); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
