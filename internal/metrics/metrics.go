// Package metrics is a tiny Prometheus-style metrics registry: counters and
// gauges with labels, written in the Prometheus text exposition format
// (version 0.0.4). It has no dependency beyond the standard library.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Registry holds metric families and writes them out.
type Registry struct {
	mu       sync.Mutex
	families []*family
	byName   map[string]*family
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{byName: map[string]*family{}}
}

type family struct {
	name, help, kind string
	labels           []string

	mu     sync.Mutex
	series map[string]*series // by joined label values
}

type series struct {
	values []string
	v      float64
}

func (r *Registry) register(name, help, kind string, labels []string) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.byName[name]; ok {
		if f.kind != kind || !slices.Equal(f.labels, labels) {
			panic(fmt.Sprintf("metrics: %s registered again as a different metric", name))
		}
		return f
	}
	f := &family{name: name, help: help, kind: kind, labels: slices.Clone(labels), series: map[string]*series{}}
	r.families = append(r.families, f)
	r.byName[name] = f
	return f
}

// get returns the series of the label values, creating it. A wrong number
// of values is a programming error.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	s := f.series[key]
	if s == nil {
		s = &series{values: slices.Clone(values)}
		f.series[key] = s
	}
	return s
}

// Counter is a family of counters: values that only go up.
type Counter struct{ f *family }

// Counter registers (or returns the already registered) counter family.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	return &Counter{r.register(name, help, "counter", labels)}
}

// Add adds v (which must not be negative) to the counter of the label
// values.
func (c *Counter) Add(v float64, labelValues ...string) {
	if v < 0 {
		panic("metrics: counter " + c.f.name + " decreased")
	}
	c.f.mu.Lock()
	c.f.get(labelValues).v += v
	c.f.mu.Unlock()
}

// Inc adds one.
func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Value is the counter's current value.
func (c *Counter) Value(labelValues ...string) float64 {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return c.f.get(labelValues).v
}

// Gauge is a family of gauges: values that go up and down.
type Gauge struct{ f *family }

// Gauge registers (or returns the already registered) gauge family.
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	return &Gauge{r.register(name, help, "gauge", labels)}
}

// Set sets the gauge of the label values.
func (g *Gauge) Set(v float64, labelValues ...string) {
	g.f.mu.Lock()
	g.f.get(labelValues).v = v
	g.f.mu.Unlock()
}

// Value is the gauge's current value.
func (g *Gauge) Value(labelValues ...string) float64 {
	g.f.mu.Lock()
	defer g.f.mu.Unlock()
	return g.f.get(labelValues).v
}

// Replace drops every series of the family and sets those fn sets, in one
// step that no scrape sees half done: for gauges that describe a set of
// things (repositories) that may shrink.
func (g *Gauge) Replace(fn func(set func(v float64, labelValues ...string))) {
	g.f.mu.Lock()
	defer g.f.mu.Unlock()
	g.f.series = map[string]*series{}
	fn(func(v float64, labelValues ...string) { g.f.get(labelValues).v = v })
}

// ContentType is the media type of WriteText's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes every family, in registration order, each series in
// label order, in the text exposition format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	families := slices.Clone(r.families)
	r.mu.Unlock()
	var b strings.Builder
	for _, f := range families {
		f.mu.Lock()
		ss := make([]*series, 0, len(f.series))
		for _, s := range f.series {
			ss = append(ss, s)
		}
		lines := make([]string, 0, len(ss))
		for _, s := range ss {
			lines = append(lines, f.name+labelText(f.labels, s.values)+" "+formatValue(s.v)+"\n")
		}
		f.mu.Unlock()
		slices.Sort(lines)
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, helpEscaper.Replace(f.help), f.name, f.kind)
		for _, l := range lines {
			b.WriteString(l)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Handler serves the registry for GET /metrics.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		r.WriteText(w)
	})
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func labelText(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="` + valueEscaper.Replace(values[i]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
