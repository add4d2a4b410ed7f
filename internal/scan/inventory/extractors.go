package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/archive"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagejson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargoauditable"
	"github.com/google/osv-scalibr/extractor/filesystem/os/apk"
	"github.com/google/osv-scalibr/extractor/filesystem/os/dpkg"
	"github.com/google/osv-scalibr/extractor/filesystem/os/rpm"
	scalibrlog "github.com/google/osv-scalibr/log"
)

// The extractors, imported one by one: scalibr's lists of all extractors
// would link a hundred more (and their dependencies) into the binary.
// depcheck_test.go keeps it so.

// extractorKind says how an extractor reads its file.
type extractorKind uint8

const (
	// fromStream extractors read only the file they asked for, so they run
	// as the walk meets it.
	fromStream extractorKind = iota
	// fromBinary extractors are fromStream ones that ask for every
	// executable but can only read executable formats (ELF, PE, Mach-O,
	// WebAssembly); a script is skipped on its first bytes.
	fromBinary
	// fromDisk extractors read a package database by path (rpm's SQLite and
	// Berkeley DB readers open files) and the image's os-release beside it,
	// which the walk may meet later; they run on copies written to the
	// scratch directory once the walk is done.
	fromDisk
)

type extractorSpec struct {
	ex   filesystem.Extractor
	kind extractorKind
}

// Limits on what an extractor may read into memory. package.json files
// are read whole; a Java archive's nested archives are read whole, one
// inside the other, up to this many bytes in all (a fat jar beyond it is
// listed as far as the extractor got).
const (
	maxPackageJSONBytes = 16 << 20
	maxJavaOpenedBytes  = 256 << 20
)

func newExtractors() ([]extractorSpec, error) {
	cfg := &cpb.PluginConfig{PluginSpecific: []*cpb.PluginSpecificConfig{
		{Config: &cpb.PluginSpecificConfig_JavaArchive{JavaArchive: &cpb.JavaArchiveConfig{MaxOpenedBytes: maxJavaOpenedBytes}}},
		{Config: &cpb.PluginSpecificConfig_JavascriptPackageJson{JavascriptPackageJson: &cpb.JavascriptPackageJsonConfig{MaxFileSizeBytes: maxPackageJSONBytes}}},
	}}
	makers := []struct {
		make func(*cpb.PluginConfig) (filesystem.Extractor, error)
		kind extractorKind
	}{
		{dpkg.New, fromDisk},
		{apk.New, fromDisk},
		{rpm.New, fromDisk},
		{gobinary.New, fromBinary},
		{cargoauditable.New, fromBinary},
		{packagejson.New, fromStream},
		{wheelegg.New, fromStream},
		{archive.New, fromStream},
	}
	specs := make([]extractorSpec, 0, len(makers))
	for _, m := range makers {
		ex, err := m.make(cfg)
		if err != nil {
			return nil, fmt.Errorf("set up osv-scalibr extractor: %w", err)
		}
		specs = append(specs, extractorSpec{ex: ex, kind: m.kind})
	}
	return specs, nil
}

var routeLogs sync.Once

// routeScalibrLogs sends osv-scalibr's logs, which go to standard error by
// default, to slog at debug level: they describe odd files in images (a
// package.json without a version, a binary without build information),
// which are the images' business, not the server's. The errors that matter
// are returned by the extractors and logged by the inventory. scalibr's
// logger is one per process, hence the Once.
func routeScalibrLogs() {
	routeLogs.Do(func() { scalibrlog.SetLogger(slogLogger{}) })
}

type slogLogger struct{}

func (slogLogger) log(format string, args ...any) {
	if l := slog.Default(); l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug(fmt.Sprintf(format, args...), "component", "osv-scalibr")
	}
}
func (l slogLogger) Errorf(format string, args ...any) { l.log(format, args...) }
func (l slogLogger) Warnf(format string, args ...any)  { l.log(format, args...) }
func (l slogLogger) Infof(format string, args ...any)  { l.log(format, args...) }
func (l slogLogger) Debugf(format string, args ...any) { l.log(format, args...) }
func (l slogLogger) Error(args ...any)                 { l.log("%s", fmt.Sprint(args...)) }
func (l slogLogger) Warn(args ...any)                  { l.log("%s", fmt.Sprint(args...)) }
func (l slogLogger) Info(args ...any)                  { l.log("%s", fmt.Sprint(args...)) }
func (l slogLogger) Debug(args ...any)                 { l.log("%s", fmt.Sprint(args...)) }
