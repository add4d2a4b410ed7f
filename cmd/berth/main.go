// Command berth is Amazon ECR that you run yourself.
package main

import (
	"context"
	"fmt"
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
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "berth:", err)
			os.Exit(1)
		}
	case "admin":
		if err := admin(os.Args[2:], os.Stdout, os.Stderr, os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "berth admin:", err)
			os.Exit(1)
		}
	case "vulndb":
		if err := vulndbCmd(os.Args[2:], os.Stdout, os.Stderr, os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "berth vulndb:", err)
			os.Exit(1)
		}
	case "login":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := login(ctx, os.Args[2:], os.Stdout, os.Stderr, os.Getenv)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "berth login:", err)
			os.Exit(1)
		}
	case "doctor":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := doctorCmd(ctx, os.Args[2:], os.Stdout, os.Stderr, os.Getenv)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "berth doctor:", err)
			os.Exit(1)
		}
	case "version", "--version":
		fmt.Println("berth", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "berth: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

func serve(args []string) error {
	cfg, err := config.Parse(args, os.Getenv)
	if err != nil {
		return err
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
