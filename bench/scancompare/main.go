// Command scancompare checks Berth's image scanning against osv-scanner's on
// the same image and the same OSV data, and with -bench measures both:
// push → COMPLETE against osv-scanner's run on the same archive, with each
// side's peak resident memory. scripts/scan-compare prepares what it needs
// (osv-scanner, the Debian root filesystem, a running `berth serve`) and
// runs it; see that script for the whole picture.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"
)

type options struct {
	berthURL, berthBin, berthData string
	berthPID                      int
	osvScanner                    string
	debianRoot                    string
	goVulnDB, goVulnDBVersion     string
	fixtures                      string
	work                          string
	bench                         bool
	reps                          int
	largeMiB                      int
	region, akid, secret          string
}

func main() {
	var o options
	flag.StringVar(&o.berthURL, "berth", "", "URL of a running berth serve")
	flag.IntVar(&o.berthPID, "berth-pid", 0, "its process id (for its memory)")
	flag.StringVar(&o.berthBin, "berth-bin", "", "the berth binary (for berth vulndb import)")
	flag.StringVar(&o.berthData, "berth-data", "", "its --data directory")
	flag.StringVar(&o.osvScanner, "osv-scanner", "osv-scanner", "the osv-scanner binary")
	flag.StringVar(&o.debianRoot, "debian", "", "a Debian root filesystem, with its dpkg status")
	flag.StringVar(&o.goVulnDB, "govulndb", "", "the data/osv directory of golang.org/x/vulndb")
	flag.StringVar(&o.goVulnDBVersion, "govulndb-version", "", "its module version, for the report")
	flag.StringVar(&o.fixtures, "fixtures", "bench/scancompare/testdata/osv", "hand-written OSV records, a directory per ecosystem")
	flag.StringVar(&o.work, "work", "", "a directory for the images, the data and the outputs")
	flag.BoolVar(&o.bench, "bench", false, "after the comparison, measure both scanners")
	flag.IntVar(&o.reps, "reps", 3, "repetitions of each measurement (-bench)")
	flag.IntVar(&o.largeMiB, "large-mib", 1024, "compressed size of the large image in MiB (-bench); 0 leaves it out")
	flag.StringVar(&o.region, "region", "us-east-1", "the registry's region")
	flag.Parse()
	o.akid, o.secret = os.Getenv("BERTH_ACCESS_KEY_ID"), os.Getenv("BERTH_SECRET_ACCESS_KEY")
	for name, v := range map[string]string{"-berth": o.berthURL, "-berth-bin": o.berthBin, "-berth-data": o.berthData,
		"-debian": o.debianRoot, "-govulndb": o.goVulnDB, "-work": o.work, "BERTH_ACCESS_KEY_ID": o.akid, "BERTH_SECRET_ACCESS_KEY": o.secret} {
		if v == "" {
			log.Fatalf("%s is required (scripts/scan-compare sets it)", name)
		}
	}
	log.SetFlags(0)
	log.SetPrefix("[scancompare] ")
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	// The same zips for both: osv-scanner reads <dir>/osv-scalibr/<Ecosystem>/all.zip
	// (its --local-db-path), Berth imports that <Ecosystem>/all.zip layout.
	dbDir := filepath.Join(o.work, "osvdb")
	zips := filepath.Join(dbDir, "osv-scalibr")
	counts, err := writeOSVZips(zips, o.goVulnDB, o.fixtures)
	if err != nil {
		return err
	}
	log.Printf("OSV data: %s", counts)
	t := time.Now()
	if out, err := runCmd(ctx, o.berthBin, "vulndb", "import", "--data", o.berthData, zips); err != nil {
		return fmt.Errorf("berth vulndb import: %v\n%s", err, out)
	}
	importTook := time.Since(t)
	log.Printf("berth vulndb import: %s", importTook.Round(time.Millisecond))

	b, err := newBerth(ctx, o)
	if err != nil {
		return err
	}
	if err := b.scanOnPush(ctx); err != nil {
		return err
	}

	img, err := buildRealImage(ctx, o)
	if err != nil {
		return err
	}
	log.Printf("image: %s", img)
	digest, _, err := b.pushAndWait(ctx, img, "real-content", "v1", nil)
	if err != nil {
		return err
	}
	berthSet, err := b.findingSet(ctx, "real-content", digest)
	if err != nil {
		return err
	}
	osvRun, err := runOSVScanner(ctx, o.osvScanner, img.archive, dbDir, filepath.Join(o.work, "osv-scanner-real.json"))
	if err != nil {
		return err
	}
	if err := writeSet(filepath.Join(o.work, "findings-berth.txt"), berthSet); err != nil {
		return err
	}
	if err := writeSet(filepath.Join(o.work, "findings-osv-scanner.txt"), osvRun.set); err != nil {
		return err
	}
	res := compare(berthSet, osvRun.set)
	res.print(os.Stdout)
	if err := res.err(); err != nil {
		return err
	}
	fmt.Printf("comparison: the same (package, version, vulnerability id) set, %d findings; explained differences: %d; took %s\n",
		len(res.same), len(res.explained), time.Since(start).Round(time.Second))
	if !o.bench {
		return nil
	}
	return runBench(ctx, o, b, img, dbDir, importTook, counts)
}
