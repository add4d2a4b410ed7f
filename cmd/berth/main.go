// Command berth is Amazon ECR that you run yourself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-registry/berth/internal/config"
	"github.com/berth-registry/berth/internal/server"
)

const usage = `berth — Amazon ECR that you run yourself

Usage:
  berth serve [flags]   run the registry (berth serve -h lists the flags)
  berth admin <command> manage accounts (berth admin -h lists the commands)
  berth vulndb <command> load and list the vulnerability data image scanning
                        matches against (berth vulndb -h)
  berth login [flags]   log docker in to Berth or Amazon ECR with your AWS
                        identity, without docker login (berth login -h)
  berth doctor [flags]  explain why a docker push or pull fails, with the
                        command that fixes it (berth doctor -h)
  berth version         print the version
`

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run is berth with its arguments (without the program name) and returns
// the exit status: asking for help is not a failure; every error is printed
// once, to stderr.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		if err := serve(args[1:], getenv); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				config.Usage(stdout)
				return 0
			}
			fmt.Fprintln(stderr, "berth serve:", err)
			return 1
		}
	case "admin":
		if err := admin(args[1:], stdout, stderr, getenv); err != nil {
			fmt.Fprintln(stderr, "berth admin:", err)
			return 1
		}
	case "vulndb":
		if err := vulndbCmd(args[1:], stdout, stderr, getenv); err != nil {
			fmt.Fprintln(stderr, "berth vulndb:", err)
			return 1
		}
	case "login":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := login(ctx, args[1:], stdout, stderr, getenv)
		stop()
		if err != nil {
			fmt.Fprintln(stderr, "berth login:", err)
			return 1
		}
	case "doctor":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := doctorCmd(ctx, args[1:], stdout, stderr, getenv)
		stop()
		if err != nil {
			fmt.Fprintln(stderr, "berth doctor:", err)
			return 1
		}
	case "version", "--version":
		fmt.Fprintln(stdout, "berth", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "berth: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return 0
}

func serve(args []string, getenv func(string) string) error {
	cfg, err := config.Parse(args, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w (berth serve -h lists the flags)", err)
	}
	log := cfg.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	if err := srv.Serve(ctx); err != nil {
		return err
	}
	log.Info("berth stopped")
	return nil
}
