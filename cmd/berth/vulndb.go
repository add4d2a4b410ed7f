package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/berth-registry/berth/internal/vulndb"
	"github.com/berth-registry/berth/internal/vulndb/httpfetch"
)

const vulndbUsage = `Usage:
  berth vulndb import [--data DIR | --meta URL] SOURCE...
      load OSV vulnerability data for image scanning
  berth vulndb status [--data DIR | --meta URL] [--output text|json]
      list the ecosystems loaded: records, when, from where

A SOURCE is an osv.dev-style zip of OSV JSON files (all.zip), a directory
of OSV JSON files (read recursively), a directory laid out as
<Ecosystem>/all.zip, one OSV JSON file, or an http(s) URL of a zip, e.g.
https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip.
An import replaces every ecosystem its sources hold, all at once; a
corrupt zip or a malformed record fails it, naming the file, and leaves
the data as it was. Running servers see the new data at once, on every
node. See docs/scanning.md.

--meta (BERTH_META) names the metadata store as berth serve's does
(sqlite:PATH or postgres://…); without it, the embedded database in --data.
`

// vulndbCmd runs `berth vulndb <command>`.
func vulndbCmd(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, vulndbUsage)
		return nil
	}
	cmd, args := args[0], args[1:]
	fset := flag.NewFlagSet("berth vulndb "+cmd, flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), vulndbUsage, "\nFlags:\n"); fset.PrintDefaults() }
	data := fset.String("data", envOr(getenv, "BERTH_DATA", "./berth-data"), "data directory (the embedded database, unless --meta names another store)")
	metaURL := fset.String("meta", envOr(getenv, "BERTH_META", ""), "metadata store URL, as berth serve --meta")
	var output *string
	switch cmd {
	case "import":
	case "status":
		output = fset.String("output", "text", "text or json")
	default:
		return fmt.Errorf("unknown vulndb command %q\n\n%s", cmd, vulndbUsage)
	}
	if help, err := parseFlags(fset, args, stdout); help || err != nil {
		return err
	}
	switch {
	case cmd == "import" && fset.NArg() == 0:
		return fmt.Errorf("no SOURCE to import\n\n%s", vulndbUsage)
	case cmd == "status" && fset.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fset.Arg(0))
	case output != nil && *output != "text" && *output != "json":
		return fmt.Errorf("--output %q: use text or json", *output)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	store, err := openExistingMeta(ctx, *metaURL, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db := vulndb.New(store, vulndb.Options{Logger: log, Fetcher: httpfetch.Fetcher{}})

	if cmd == "status" {
		st, err := db.Status(ctx)
		if err != nil {
			return err
		}
		v, err := db.Version(ctx)
		if err != nil {
			return err
		}
		if *output == "json" {
			type ecosystem struct {
				Ecosystem string    `json:"ecosystem"`
				Records   int       `json:"records"`
				Source    string    `json:"source"`
				LoadedAt  time.Time `json:"loadedAt"`
			}
			out := struct {
				Version    int64       `json:"version"`
				ChangedAt  *time.Time  `json:"changedAt,omitempty"`
				Ecosystems []ecosystem `json:"ecosystems"`
			}{Version: v.Version, Ecosystems: []ecosystem{}}
			if !v.ChangedAt.IsZero() {
				out.ChangedAt = &v.ChangedAt
			}
			for _, e := range st {
				out.Ecosystems = append(out.Ecosystems, ecosystem(e))
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		return printEcosystems(stdout, st, "RECORDS")
	}

	rep, err := db.Import(ctx, fset.Args()...)
	if err != nil {
		return err
	}
	if err := printEcosystems(stdout, rep.Ecosystems, "LOADED"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d withdrawn records and %d naming no package left out; took %v\n",
		rep.Withdrawn, rep.NoPackage, rep.Duration.Round(time.Millisecond))
	return nil
}

func printEcosystems(w io.Writer, ecos []vulndb.Ecosystem, count string) error {
	if len(ecos) == 0 {
		fmt.Fprintln(w, "no vulnerability data (berth vulndb import SOURCE loads some)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ECOSYSTEM\t%s\tLOADED AT\tSOURCE\n", count)
	for _, e := range ecos {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", e.Ecosystem, e.Records, e.LoadedAt.Format(time.RFC3339), e.Source)
	}
	return tw.Flush()
}
