package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzValidateInput feeds arbitrary JSON to CreateRepository and
// BatchGetImage. Validation faces untrusted bodies on every request, so it
// must not panic, must be deterministic (Go's map order must not leak into
// messages), and must always produce a well-formed error.
func FuzzValidateInput(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"repositoryName": "team/app", "tags": [{"Key": "k", "Value": "v"}]}`,
		`{"repositoryName": "Bad_Name!", "imageTagMutability": "x", "registryId": "1"}`,
		`{"repositoryName": null, "encryptionConfiguration": {"encryptionType": "KMS_DSSE"}}`,
		`{"repositoryName": "ok", "imageIds": [{"imageTag": ""}, {"imageDigest": "sha256:0"}, null, 5]}`,
		`{"repositoryName": "ok", "imageIds": [], "acceptedMediaTypes": [1, "a", null]}`,
		`{"repositoryName": 1e999999999, "tags": {"a": [1, {"b": null}]}}`,
		`{"repositoryName": "ok", "imageScanningConfiguration": {"scanOnPush": "yes"}}`,
		`{"repositoryName": "😀😀", "tags": [{"Key": "\u0000", "Value": "\ud800"}]}`,
		`[1, 2]`,
		`"string"`,
	} {
		f.Add([]byte(seed))
	}
	m := mustService(f, "ecr")
	f.Fuzz(func(t *testing.T, body []byte) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return
		}
		in, _ := v.(map[string]any) // non-objects validate as "{}"
		for _, op := range []string{"CreateRepository", "BatchGetImage"} {
			err := m.ValidateInput(op, in)
			if err == nil {
				continue
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%s: %v is not a *ValidationError", op, err)
			}
			if ve.Code == "" || ve.Message == "" || len(ve.Violations) == 0 {
				t.Fatalf("%s: malformed error %+v", op, ve)
			}
			if ve.Code != "SerializationException" && !strings.HasPrefix(ve.Message, "Invalid parameter at '") {
				t.Fatalf("%s: message %q", op, ve.Message)
			}
			again := m.ValidateInput(op, in)
			if again == nil || again.Error() != err.Error() {
				t.Fatalf("%s: not deterministic: %v then %v", op, err, again)
			}
		}
	})
}

func TestDecimalInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"1000", 1000, true}, {"1e3", 1000, true}, {"1E+3", 1000, true},
		{"1000.0", 1000, true}, {"12.50e1", 125, true}, {"-42", -42, true}, {"0.0e5", 0, true},
		{"1.5", 0, false}, {"0.5", 0, false}, {"00.05", 0, false}, {"1e-1", 0, false},
		{"1.0000000000000000001", 0, false}, {"1e-999999999999", 0, false},
		{"9223372036854775807", math.MaxInt64, true}, {"9223372036854775808", math.MaxInt64, true},
		{"-9223372036854775809", math.MinInt64, true}, {"1e999999999999", math.MaxInt64, true},
		{"-1e20", math.MinInt64, true},
	}
	for _, tt := range tests {
		start := time.Now()
		got, ok := decimalInt(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("decimalInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if d := time.Since(start); d > 10*time.Millisecond {
			t.Errorf("decimalInt(%q) took %v", tt.in, d)
		}
	}
}

// Paths deeper than the walker's fixed array spill to a slice.
func TestPathStackDeep(t *testing.T) {
	var p pathStack
	var want []string
	for i := 1; i <= 40; i++ {
		if i%2 == 0 {
			p.push(seg{index: i})
			want = append(want, strconv.Itoa(i)+".member")
		} else {
			p.push(seg{name: "m" + strconv.Itoa(i)})
			want = append(want, "m"+strconv.Itoa(i))
		}
	}
	if got := p.String(); got != strings.Join(want, ".") {
		t.Fatalf("String() = %q", got)
	}
	if p.last() != (seg{index: 40}) {
		t.Errorf("last() = %+v", p.last())
	}
	for range 30 {
		p.pop()
	}
	if got := p.String(); got != strings.Join(want[:10], ".") {
		t.Errorf("after pops String() = %q", got)
	}
}
