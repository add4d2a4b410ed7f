package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// summary is the median and spread of one figure's repetitions.
type summary struct {
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Q1      float64   `json:"q1"`
	Q3      float64   `json:"q3"`
	Samples []float64 `json:"samples"`
}

func summarize(xs []float64) *summary {
	if len(xs) == 0 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return &summary{
		Median:  quantile(s, 0.5),
		Min:     s[0],
		Max:     s[len(s)-1],
		Q1:      quantile(s, 0.25),
		Q3:      quantile(s, 0.75),
		Samples: append([]float64(nil), xs...),
	}
}

// quantile of sorted s, interpolating between neighbours.
func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// durQuantile of unsorted latencies, in milliseconds.
func durQuantiles(ds []time.Duration, qs ...float64) []float64 {
	s := make([]float64, len(ds))
	for i, d := range ds {
		s[i] = float64(d) / float64(time.Millisecond)
	}
	sort.Float64s(s)
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = quantile(s, q)
	}
	return out
}

// figure is one line of the report.
type figure struct {
	Scenario  string `json:"scenario"`
	Unit      string `json:"unit"`
	Better    string `json:"better"` // "higher" or "lower"
	BerthOnly bool   `json:"berthOnly,omitempty"`
	Note      string `json:"note,omitempty"`

	berth, dist []float64
	Berth       *summary       `json:"berth"`
	Dist        *summary       `json:"distribution"`
	Ratio       *float64       `json:"ratioBerthOverDistribution"`
	Errors      map[string]int `json:"errors,omitempty"`
}

type results struct {
	mu      sync.Mutex
	figures []*figure
	byName  map[string]*figure
	limits  []*figure
}

func newResults() *results { return &results{byName: map[string]*figure{}} }

func (rs *results) fig(scenario, unit, better string) *figure {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if f, ok := rs.byName[scenario]; ok {
		return f
	}
	f := &figure{Scenario: scenario, Unit: unit, Better: better}
	rs.byName[scenario] = f
	rs.figures = append(rs.figures, f)
	return f
}

func (rs *results) limit(scenario, unit string) *figure {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	key := "limit:" + scenario
	if f, ok := rs.byName[key]; ok {
		return f
	}
	f := &figure{Scenario: scenario, Unit: unit, Better: "higher"}
	rs.byName[key] = f
	rs.limits = append(rs.limits, f)
	return f
}

// add records one repetition's value for registry r ("Berth" or
// "Distribution"; anything else is a machine limit).
func (rs *results) add(f *figure, regName string, v float64) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if regName == "Distribution" {
		f.dist = append(f.dist, v)
	} else {
		f.berth = append(f.berth, v)
	}
}

func (rs *results) addError(f *figure, regName string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if f.Errors == nil {
		f.Errors = map[string]int{}
	}
	f.Errors[regName]++
}

func (rs *results) finish() {
	for _, f := range append(append([]*figure(nil), rs.figures...), rs.limits...) {
		f.Berth = summarize(f.berth)
		f.Dist = summarize(f.dist)
		if f.Berth != nil && f.Dist != nil && f.Dist.Median != 0 {
			r := f.Berth.Median / f.Dist.Median
			f.Ratio = &r
		}
	}
}

// num prints v with about three significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "NaN"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a == 0:
		return "0"
	case a >= 0.1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func cell(s *summary, note string) string {
	if s == nil {
		if note != "" {
			return note
		}
		return "—"
	}
	if len(s.Samples) == 1 {
		return num(s.Median) + " (n=1)"
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median), num(s.Min), num(s.Max))
}

// errNote marks a figure some of whose requests failed.
func errNote(f *figure, reg string) string {
	if n := f.Errors[reg]; n > 0 {
		return fmt.Sprintf(" [%d errors]", n)
	}
	return ""
}

func printTable(w io.Writer, rs *results) {
	header := []string{"scenario", "unit", "better", "Berth median (min–max)", "Distribution median (min–max)", "Berth/Dist"}
	var rows [][]string
	for _, f := range rs.figures {
		dcell := cell(f.Dist, f.Note)
		if f.BerthOnly {
			dcell = "— (Berth only)"
		}
		ratio := "—"
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *f.Ratio)
		}
		bcell := cell(f.Berth, f.Note)
		rows = append(rows, []string{f.Scenario, f.Unit, f.Better, bcell + errNote(f, "Berth"), dcell + errNote(f, "Distribution"), ratio})
	}
	writeCols(w, header, rows)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "machine limits, measured in the same run (same repetitions):")
	var lrows [][]string
	for _, f := range rs.limits {
		lrows = append(lrows, []string{f.Scenario, f.Unit, cell(f.Berth, f.Note)})
	}
	writeCols(w, []string{"limit", "unit", "median (min–max)"}, lrows)
}

func writeCols(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	all := append([][]string{header}, rows...)
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = strings.Repeat("-", width[i])
	}
	line(seps)
	for _, r := range rows {
		line(r)
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
