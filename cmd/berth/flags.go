package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses args with fs. The flag package would print a bad flag's
// error itself and main prints the returned error again, so the flag set
// stays silent here and the caller prints the error once. -h and --help
// print the usage to stdout and report help, which is not a failure.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err = fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(out)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w (%s -h lists the flags)", err, fs.Name())
	}
	return false, nil
}
