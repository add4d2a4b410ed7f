package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/migrate"
	"github.com/berth-registry/berth/internal/server"
	"github.com/berth-registry/berth/internal/storeurl"
)

const migrateUsage = `Usage:
  berth admin migrate --from-data DIR --meta URL --blobs URL [--dry-run] [--parallel N]

Copies the embedded deployment in DIR (its berth.db and blobs/) into the
stores that several nodes share: --meta postgres://… and --blobs s3://…
(credentials from BERTH_S3_ACCESS_KEY_ID / BERTH_S3_SECRET_ACCESS_KEY,
else the AWS SDK's chain). Repositories, images, tags, policies, lifecycle
policies and IAM (users, roles, groups, policies, access keys) move; upload
sessions, jobs and role sessions do not. Stop berth serve on DIR first: the
command refuses a database in use. It refuses, before writing anything, a
target that holds something else under the same names. Running it again
copies only what is missing. See docs/migrate.md.
`

// adminMigrate runs `berth admin migrate`.
func adminMigrate(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fset := flag.NewFlagSet("berth admin migrate", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), migrateUsage, "\nFlags:\n"); fset.PrintDefaults() }
	fromData := fset.String("from-data", "", "data directory of the embedded deployment to copy")
	metaURL := fset.String("meta", "", "the target metadata store: postgres://user:pass@host:port/db?sslmode=… (or sqlite:PATH)")
	blobsURL := fset.String("blobs", "", "the target blob store: s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path-style=true (or file:PATH)")
	dryRun := fset.Bool("dry-run", false, "check the target and report what would be copied, writing nothing")
	parallel := fset.Int("parallel", 4, "how many blobs to copy at once")
	if help, err := parseFlags(fset, args, stdout); help || err != nil {
		return err
	}
	switch {
	case fset.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fset.Arg(0))
	case *fromData == "" || *metaURL == "" || *blobsURL == "":
		return fmt.Errorf("--from-data, --meta and --blobs are all needed\n\n%s", migrateUsage)
	}
	dbPath := filepath.Join(*fromData, "berth.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no embedded deployment in %s: %w", *fromData, err)
	}
	tm, err := storeurl.ParseMeta(*metaURL, "")
	if err != nil {
		return err
	}
	tb, err := storeurl.ParseBlobs(*blobsURL, "")
	if err != nil {
		return err
	}
	if tm.Scheme == "sqlite" && samePath(tm.Path, dbPath) {
		return errors.New("--meta names the source's own database")
	}
	if tb.Scheme == "file" && samePath(tb.Path, filepath.Join(*fromData, "blobs")) {
		return errors.New("--blobs names the source's own blob directory")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Exclusive: no berth serve or admin command may have the database
	// open while it is copied, nor open it until the copy ends.
	srcMeta, err := sqlite.OpenExclusive(dbPath)
	if errors.Is(err, sqlite.ErrInUse) {
		return fmt.Errorf("refusing to migrate %s: %w", *fromData, err)
	}
	if err != nil {
		return err
	}
	defer srcMeta.Close()
	srcBlobs, err := fs.New(filepath.Join(*fromData, "blobs"))
	if err != nil {
		return err
	}
	dstMeta, err := server.OpenMeta(ctx, *metaURL, "")
	if err != nil {
		return err
	}
	defer dstMeta.Close()
	creds := server.S3Credentials{AccessKeyID: getenv("BERTH_S3_ACCESS_KEY_ID"), SecretAccessKey: getenv("BERTH_S3_SECRET_ACCESS_KEY")}
	dstBlobs, err := server.OpenBlobs(ctx, *blobsURL, "", creds)
	if err != nil {
		return err
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := migrate.Run(ctx, migrate.Stores{Meta: srcMeta, Blobs: srcBlobs}, migrate.Stores{Meta: dstMeta, Blobs: dstBlobs},
		migrate.Options{DryRun: *dryRun, Parallel: *parallel, Logger: log})
	if err != nil {
		var ce *migrate.ConflictError
		if errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("%w\n(what was copied stays; running the command again copies the rest)", err)
	}
	target := fmt.Sprintf("%s and %s", tm.Redacted(), blobsName(tb))
	printReport(stdout, rep, *fromData, target)
	if !*dryRun {
		printNextSteps(stdout, *fromData, *metaURL, *blobsURL)
	}
	return nil
}

func samePath(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	return errA == nil && errB == nil && filepath.Clean(a) == filepath.Clean(b)
}

func blobsName(b storeurl.Blobs) string {
	if b.Scheme == "s3" {
		name := "s3://" + b.S3.Bucket
		if b.S3.Prefix != "" {
			name += "/" + b.S3.Prefix
		}
		return name
	}
	return "file:" + b.Path
}

func printReport(w io.Writer, rep *migrate.Report, from, target string) {
	if rep.DryRun {
		fmt.Fprintf(w, "Dry run: nothing was written. Copying %s to %s would do this:\n\n", from, target)
	} else {
		fmt.Fprintf(w, "Copied the embedded deployment in %s to %s.\n\n", from, target)
	}
	copied := "copied"
	if rep.DryRun {
		copied = "to copy"
	}
	width := 0
	for _, k := range migrate.Kinds {
		width = max(width, len(k))
	}
	fmt.Fprintf(w, "  %-*s %8s %14s\n", width, "", copied, "already there")
	for _, k := range migrate.Kinds {
		fmt.Fprintf(w, "  %-*s %8d %14d\n", width, k, rep.Copied[k], rep.Present[k])
	}
	fmt.Fprintf(w, "\nBlob bytes %s: %d (%s)\n", copied, rep.BlobBytes, humanBytes(rep.BlobBytes))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// printNextSteps tells the operator what the migration cannot carry: the
// default account's root credentials and the login-token key are
// configuration, kept as files in the data directory unless given by
// BERTH_* variables.
func printNextSteps(w io.Writer, from, metaURL, blobsURL string) {
	fmt.Fprint(w, `
Not copied, as they only matter to the server that ran on the old stores:
upload sessions in progress (clients push those blobs again), background jobs
and leases, garbage collection's bookkeeping, lifecycle policy previews, and
role sessions from AssumeRole (callers assume the role again).

Next:
  1. Give every node the configuration the embedded server had:
`)
	var files []string
	rootFile := filepath.Join(from, "root-credentials.json")
	var root struct {
		Account     string `json:"account"`
		AccessKeyID string `json:"accessKeyId"`
	}
	if b, err := os.ReadFile(rootFile); err == nil && json.Unmarshal(b, &root) == nil && root.AccessKeyID != "" {
		files = append(files, rootFile)
		fmt.Fprintf(w, `     - the root credentials of the default account %s, in %s:
         export BERTH_ACCESS_KEY_ID=%s
         export BERTH_SECRET_ACCESS_KEY=…   # its "secretAccessKey"
`, root.Account, rootFile, root.AccessKeyID)
	} else {
		fmt.Fprint(w, "     - the same root credentials (BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY) as before\n")
	}
	keyFile := filepath.Join(from, "token-key")
	if _, err := os.Stat(keyFile); err == nil {
		files = append(files, keyFile)
		fmt.Fprintf(w, `     - the login-token key, so that logins made before keep working:
         export BERTH_TOKEN_KEY="$(cat %s)"
`, keyFile)
	} else {
		fmt.Fprint(w, "     - the same login-token key (--token-key, BERTH_TOKEN_KEY) as before\n")
	}
	fmt.Fprint(w, "     - the same --default-account and --default-region\n")
	if len(files) > 0 {
		fmt.Fprintf(w, "     (or copy %s into each node's --data directory)\n", strings.Join(files, " and "))
	}
	fmt.Fprintf(w, `  2. Start the nodes on the new stores:
       berth serve --meta '%s' --blobs '%s'
  3. Check them (aws ecr describe-repositories, a pull), then send clients there.
     Keep %s until you are sure: running this command again copies only
     what is missing, and refuses if the new stores changed what it copied.
`, redactedMeta(metaURL), blobsURL, from)
}

func redactedMeta(raw string) string {
	if m, err := storeurl.ParseMeta(raw, ""); err == nil {
		return m.Redacted()
	}
	return raw
}
