package metrics

import (
	"go/build"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExposition(t *testing.T) {
	r := New()
	c := r.Counter("berth_things_total", "Things done.\nAll of them.", "repository", "result")
	g := r.Gauge("berth_bytes", `Bytes held, in \ units.`, "repository")
	up := r.Gauge("berth_up", "Always one.")
	c.Inc("b", "ok")
	c.Add(2.5, "a", "ok")
	c.Inc("b", "ok")
	c.Inc(`we"ird\name`+"\n", "fail")
	g.Set(1e12, "app")
	g.Set(math.Inf(1), "inf")
	up.Set(1)

	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP berth_things_total Things done.\nAll of them.
# TYPE berth_things_total counter
berth_things_total{repository="a",result="ok"} 2.5
berth_things_total{repository="b",result="ok"} 2
berth_things_total{repository="we\"ird\\name\n",result="fail"} 1
# HELP berth_bytes Bytes held, in \\ units.
# TYPE berth_bytes gauge
berth_bytes{repository="app"} 1e+12
berth_bytes{repository="inf"} +Inf
# HELP berth_up Always one.
# TYPE berth_up gauge
berth_up 1
`
	if b.String() != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", b.String(), want)
	}
	if v := c.Value("b", "ok"); v != 2 {
		t.Errorf("Value = %v", v)
	}

	g.Replace(func(set func(float64, ...string)) { set(7, "only") })
	b.Reset()
	r.WriteText(&b)
	if strings.Contains(b.String(), `"app"`) || !strings.Contains(b.String(), `berth_bytes{repository="only"} 7`) {
		t.Errorf("after Replace:\n%s", b.String())
	}

	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType || !strings.Contains(rec.Body.String(), "berth_up 1") {
		t.Errorf("handler: %s\n%s", ct, rec.Body.String())
	}
}

func TestRegisterTwice(t *testing.T) {
	r := New()
	a := r.Counter("x_total", "x", "l")
	b := r.Counter("x_total", "x", "l")
	a.Inc("v")
	if b.Value("v") != 1 {
		t.Error("registering again does not share the family")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a gauge over a counter did not panic")
		}
	}()
	r.Gauge("x_total", "x", "l")
}

func TestWrongLabelCount(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New().Counter("y_total", "y", "a", "b").Inc("only one")
}

// TestDependencies keeps the package on the standard library.
func TestDependencies(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(strings.Split(imp, "/")[0], ".") {
			t.Errorf("metrics imports %s: keep it on the standard library", imp)
		}
	}
}
