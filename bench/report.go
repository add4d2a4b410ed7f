package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type reportHeader struct {
	Date         string            `json:"date"`
	Machine      machine           `json:"machine"`
	Repetitions  int               `json:"repetitions"`
	Interleaved  string            `json:"interleaving"`
	Berth        string            `json:"berth"`
	Distribution string            `json:"distribution"`
	Storage      string            `json:"storage"`
	Sizes        map[string]string `json:"sizes"`
	Units        string            `json:"units"`
	Elapsed      string            `json:"elapsed"`
	Noise        string            `json:"noise,omitempty"`
	Memory       string            `json:"memory,omitempty"`
}

func rev(r string) string {
	if r == "" {
		return ""
	}
	return "(" + r + ") "
}

func loadList(ls []float64) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%.2f", l)
	}
	return strings.Join(parts, ", ")
}

type serverLogSummary struct {
	Lines        int            `json:"lines"`
	ErrorLines   int            `json:"errorOrWarnLines"` // not counting requests answered 4xx
	Status5xx    int            `json:"status5xx"`
	StatusCounts map[string]int `json:"non2xxByMethodAndStatus,omitempty"`
	Samples      []string       `json:"samples,omitempty"`
	Note         string         `json:"note,omitempty"`
}

type jsonReport struct {
	Header        reportHeader                `json:"header"`
	Figures       []*figure                   `json:"figures"`
	Limits        []*figure                   `json:"limits"`
	PeakRSSLife   map[string]float64          `json:"lifetimeVmHWMMiB,omitempty"`
	RequestErrors []*reqError                 `json:"requestErrors"`
	ErrorCounts   map[string]int              `json:"requestErrorCounts"`
	ServerLogs    map[string]serverLogSummary `json:"serverLogs"`
	StoppedEarly  string                      `json:"stoppedEarly,omitempty"`
}

// report prints the table and writes the JSON; it returns the exit code:
// 1 when any request failed.
func (b *bench) report() int {
	c := b.cfg
	b.res.finish()
	m := describeMachine()
	same := "unknown"
	if c.berthData != "" && c.distData != "" {
		if ok, err := sameFilesystem(c.berthData, c.distData, c.workdir); err == nil {
			same = map[bool]string{true: "yes", false: "NO"}[ok]
		}
	}
	h := reportHeader{
		Date:        time.Now().UTC().Format(time.RFC3339),
		Machine:     m,
		Repetitions: c.reps,
		Interleaved: "each scenario runs against Berth and Distribution back to back; the first of the two alternates per repetition",
		Berth: "Berth " + rev(c.berthRev) + c.berthURL + " with its real authentication: ECR API calls SigV4-signed by aws-sdk-go-v2, " +
			"/v2/ with Basic AWS:<password> from GetAuthorizationToken; storage: " + c.berthStorage,
		Distribution: "CNCF Distribution " + c.distVersion + " " + c.distURL +
			" WITHOUT authentication (no auth in its config), " + c.distStorage + ", in-memory blob descriptor cache, OTEL_TRACES_EXPORTER=none",
		Storage: fmt.Sprintf("Berth data %s, Distribution root %s, fsync test in %s; same filesystem: %s", c.berthData, c.distData, c.workdir, same),
		Sizes: map[string]string{
			"blob":              sizeString(c.blobSize),
			"chunk":             sizeString(c.chunkSize),
			"loadDuration":      c.duration.String(),
			"loadClients":       fmt.Sprint(c.clients),
			"imagesPerRun":      strconv.Itoa(c.images),
			"imageClients":      fmt.Sprint(c.imageClients),
			"layer":             fmt.Sprintf("%d × %s", c.layers, sizeString(c.layerSize)),
			"tags":              strconv.Itoa(c.tags),
			"apiImages":         strconv.Itoa(c.apiImages),
			"describeMaxResult": strconv.Itoa(c.apiPage),
			"batch":             strconv.Itoa(c.batch),
			"limitBuffer":       sizeString(c.limitSize),
		},
		Units:   "MB/s = 10^6 bytes/s; spread = min–max over the repetitions (n=1: one sample); ratio = Berth median / Distribution median, read with 'better' (higher or lower)",
		Elapsed: time.Since(b.start).Round(time.Second).String(),
	}
	if c.runs("gc") {
		h.Sizes["gcBlobs"] = fmt.Sprintf("%d × %s", c.gcBlobs, sizeString(c.gcBlobSize))
		h.Sizes["gcGrace"] = gcGrace.String()
	}
	w := os.Stdout
	fmt.Fprintln(w, "Berth vs CNCF Distribution, side by side")
	fmt.Fprintf(w, "date:        %s (took %s)\n", h.Date, h.Elapsed)
	fmt.Fprintf(w, "machine:     nproc %d (%s), memory %s, %s\n", m.CPUs, m.CPUModel, m.MemTotal, m.OS)
	fmt.Fprintf(w, "Go:          %s (this program; scripts/bench builds Berth and Distribution with the same go command)\n", m.Go)
	fmt.Fprintf(w, "repetitions: %d, interleaved (Berth and Distribution back to back per scenario, the first alternating)\n", c.reps)
	fmt.Fprintf(w, "Berth:       %s\n", strings.TrimPrefix(h.Berth, "Berth "))
	fmt.Fprintf(w, "reference:   %s\n", strings.TrimPrefix(h.Distribution, "CNCF "))
	fmt.Fprintf(w, "             NOTE: Distribution runs without authentication; Berth checks a token on every /v2/ request.\n")
	fmt.Fprintf(w, "storage:     %s\n", h.Storage)
	fmt.Fprintf(w, "client:      this program on the same machine, one keep-alive http.Transport per registry\n")
	if len(b.loads) > 0 {
		h.Noise = fmt.Sprintf("1-min load average at the start of each repetition %s; during the repetitions the CPUs were %.0f%% busy (this program and both registries included) and %.1f%% of CPU time was stolen by the hypervisor",
			loadList(b.loads), b.busyPct, b.stealPct)
		fmt.Fprintf(w, "noise:       %s\n", h.Noise)
	}
	if b.prefault != "" {
		h.Memory = b.prefault
	}
	if b.reportedKiB >= 0 {
		if h.Memory != "" {
			h.Memory += "; "
		}
		h.Memory += fmt.Sprintf("during the repetitions the guest handed %s of freed memory back to the host (free page reporting), to be faulted in again on reuse", gib(b.reportedKiB*1024))
	}
	if h.Memory != "" {
		fmt.Fprintf(w, "memory:      %s\n", h.Memory)
	}
	fmt.Fprintf(w, "units:       %s\n", h.Units)
	if b.coldNote != "" {
		fmt.Fprintf(w, "cold pulls:  %s\n", b.coldNote)
	}
	fmt.Fprintln(w)
	printTable(w, b.res)
	if len(b.hwm) > 0 {
		fmt.Fprintln(w)
		var parts []string
		for _, n := range []string{"Berth", "Distribution"} {
			if v, ok := b.hwm[n]; ok {
				parts = append(parts, fmt.Sprintf("%s %s MiB", n, num(v)))
			}
		}
		fmt.Fprintf(w, "lifetime peak RSS (VmHWM) at the end of the run: %s\n", strings.Join(parts, ", "))
	}

	logs := map[string]serverLogSummary{}
	if c.berthLog != "" {
		logs["Berth"] = scanLog(c.berthLog, berthLogRE)
	}
	if c.distLog != "" {
		logs["Distribution"] = scanLog(c.distLog, distLogRE)
	}
	fmt.Fprintln(w)
	if b.fatal != "" {
		fmt.Fprintf(w, "RUN STOPPED EARLY: %s\n", b.fatal)
	}
	total := 0
	for _, n := range b.errCount {
		total += n
	}
	if total == 0 {
		fmt.Fprintln(w, "request errors: none")
	} else {
		fmt.Fprintf(w, "request errors: Berth %d, Distribution %d; registry | scenario | request | status | message | times\n", b.errCount["Berth"], b.errCount["Distribution"])
		for _, e := range b.errs {
			st := "-"
			if e.Status != 0 {
				st = strconv.Itoa(e.Status)
			}
			fmt.Fprintf(w, "  %s | %s | %s | %s | %s | ×%d\n", e.Registry, e.Scenario, e.Request, st, e.Message, e.Count)
		}
	}
	for _, n := range []string{"Berth", "Distribution"} {
		s, ok := logs[n]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%s log: %d lines, %d at level error/warn (other than 4xx answers), %d requests answered 5xx", n, s.Lines, s.ErrorLines, s.Status5xx)
		if s.Note != "" {
			fmt.Fprintf(w, " (%s)", s.Note)
		}
		fmt.Fprintln(w)
		if len(s.StatusCounts) > 0 {
			keys := make([]string, 0, len(s.StatusCounts))
			for k := range s.StatusCounts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s ×%d", k, s.StatusCounts[k]))
			}
			fmt.Fprintf(w, "  non-2xx answers: %s\n", strings.Join(parts, ", "))
		}
		for _, l := range s.Samples {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}

	if c.jsonPath != "" {
		jr := jsonReport{Header: h, Figures: b.res.figures, Limits: b.res.limits, PeakRSSLife: b.hwm,
			RequestErrors: b.errs, ErrorCounts: b.errCount, ServerLogs: logs, StoppedEarly: b.fatal}
		if jr.RequestErrors == nil {
			jr.RequestErrors = []*reqError{}
		}
		if err := writeJSON(c.jsonPath, jr); err != nil {
			fmt.Fprintln(os.Stderr, "bench: writing JSON:", err)
			return 1
		}
		fmt.Fprintf(w, "\nJSON written to %s\n", c.jsonPath)
	}
	if total > 0 || b.fatal != "" {
		return 1
	}
	return 0
}

// Berth logs requests with slog's text handler: ... level=INFO msg=request
// ... method=GET path=/v2/... status=200 ...
var berthLogRE = regexp.MustCompile(`method=(\S+) path=(\S+) status=(\d+)`)

// Distribution logs with logrus: ... http.request.method=GET ...
// http.request.uri="/v2/..." ... http.response.status=200 ...
var distLogRE = regexp.MustCompile(`http\.request\.method=(\S+).*?http\.request\.uri="?([^" ]+)"?.*?http\.response\.status=(\d+)`)

var levelRE = regexp.MustCompile(`(?i)level=(error|warn|warning|fatal|panic)\b`)

func scanLog(path string, re *regexp.Regexp) serverLogSummary {
	s := serverLogSummary{StatusCounts: map[string]int{}}
	f, err := os.Open(path)
	if err != nil {
		s.Note = err.Error()
		return s
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := rd.ReadString('\n')
		if len(line) > 0 {
			s.Lines++
			line = strings.TrimRight(line, "\n")
			interesting := false
			code := 0
			if m := re.FindStringSubmatch(line); m != nil {
				code, _ = strconv.Atoi(m[3])
				if code >= 300 {
					s.StatusCounts[m[1]+" "+strconv.Itoa(code)]++
				}
				if code >= 500 {
					s.Status5xx++
					interesting = true
				}
			}
			// A request answered 4xx is the client's affair (the HEAD 404s
			// of blob existence checks), even where a registry logs it as
			// an error.
			if levelRE.MatchString(line) && (code < 400 || code >= 500) {
				s.ErrorLines++
				interesting = true
			}
			if interesting && len(s.Samples) < 10 {
				if len(line) > 400 {
					line = line[:400] + "…"
				}
				s.Samples = append(s.Samples, line)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.Note = err.Error()
			break
		}
	}
	if len(s.StatusCounts) == 0 {
		s.StatusCounts = nil
	}
	return s
}
