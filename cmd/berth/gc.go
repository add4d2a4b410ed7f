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
	"time"

	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/server"
)

const gcUsage = `Usage:
  berth admin gc [--data DIR] [--meta URL] [--blobs URL] [--grace D] [--output text|json]

Collects garbage once, now, as every berth serve does every --gc-interval:
unlinks blobs no image references and deletes the bytes nothing links,
once they are older than --grace. It is safe beside running servers,
which go on taking pushes: a blob a push is about to commit, or has
linked, is never deleted. Another node's collection in progress makes
this one do nothing (it says so).
`

// adminGC runs `berth admin gc`.
func adminGC(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fset := flag.NewFlagSet("berth admin gc", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), gcUsage, "\nFlags:\n"); fset.PrintDefaults() }
	data := fset.String("data", envOr(getenv, "BERTH_DATA", "./berth-data"), "data directory (the embedded stores, unless --meta and --blobs name others)")
	metaURL := fset.String("meta", envOr(getenv, "BERTH_META", ""), "metadata store URL, as berth serve --meta")
	blobsURL := fset.String("blobs", envOr(getenv, "BERTH_BLOBS", ""), "blob store URL, as berth serve --blobs")
	grace := fset.Duration("grace", 24*time.Hour, "keep unreferenced blobs younger than this (a push must send its manifest within it)")
	output := fset.String("output", "text", "text or json")
	if help, err := parseFlags(fset, args, stdout); help || err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fset.Arg(0))
	}
	if *grace < 0 {
		return fmt.Errorf("--grace %v: not negative", *grace)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	m, err := server.OpenMeta(ctx, *metaURL, *data)
	if err != nil {
		return err
	}
	defer m.Close()
	b, err := server.OpenBlobs(ctx, *blobsURL, *data, server.S3Credentials{
		AccessKeyID: getenv("BERTH_S3_ACCESS_KEY_ID"), SecretAccessKey: getenv("BERTH_S3_SECRET_ACCESS_KEY")})
	if err != nil {
		return err
	}
	svc := registry.New(m, b, registry.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	rep, err := svc.CollectGarbage(ctx, *grace)
	if err != nil {
		return err
	}
	if *output == "json" {
		return json.NewEncoder(stdout).Encode(rep)
	}
	if rep.Busy {
		fmt.Fprintln(stdout, "another node is collecting garbage now: nothing done")
		return nil
	}
	fmt.Fprintf(stdout, "links removed      %d (%d bytes)\nblobs deleted      %d (%d bytes)\norphans deleted    %d (%d bytes)\npartial writes     %d aborted\nblob store holds   %d blobs, %d bytes\ntook               %v\n",
		rep.LinksRemoved, rep.LinkBytesRemoved, rep.BlobsDeleted, rep.BlobBytesDeleted, rep.OrphansDeleted, rep.OrphanBytesDeleted,
		rep.PartialWritesAborted, rep.StoreBlobs, rep.StoreBytes, rep.Duration.Round(time.Millisecond))
	return nil
}
