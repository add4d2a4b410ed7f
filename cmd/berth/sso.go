package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/berth-registry/berth/internal/sso"
)

const adminSSOUsage = `Usage:
  berth admin sso set-password --user NAME [--password P | --password-stdin] [--data DIR | --meta URL]
      set the password an IAM Identity Center user signs in with at <public-url>/device
  berth admin sso approve --user-code CODE --user NAME [--data DIR | --meta URL]
      approve a device sign-in (aws sso login) for a user, as the web page does

Users, permission sets and assignments are made with aws identitystore and
aws sso-admin against the server (docs/sso.md).
`

// adminSSO runs `berth admin sso <command>` against the metadata store,
// beside running servers: the state of a sign-in lives in the database.
func adminSSO(args []string, stdout, stderr io.Writer, getenv func(string) string, stdin io.Reader) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, adminSSOUsage)
		return nil
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("berth admin sso "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "BERTH_DATA", "./berth-data"), "data directory of the berth whose users to manage")
	metaURL := fs.String("meta", envOr(getenv, "BERTH_META", ""), "metadata store URL, as berth serve --meta (default: the embedded database in --data)")
	defaultAccount := fs.String("default-account", envOr(getenv, "BERTH_DEFAULT_ACCOUNT", "000000000000"), "the server's default account, which owns the instance")
	user := fs.String("user", "", "the user's UserName")
	var password, userCode *string
	var fromStdin *bool
	switch cmd {
	case "set-password":
		password = fs.String("password", "", "the new password (prefer --password-stdin: a flag shows in ps)")
		fromStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	case "approve":
		userCode = fs.String("user-code", "", "the code the CLI shows (userCode of start-device-authorization)")
	default:
		return fmt.Errorf("unknown admin sso command %q\n\n%s", cmd, adminSSOUsage)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *user == "" {
		return errors.New("--user is required")
	}
	ctx := context.Background()
	store, err := openExistingMeta(ctx, *metaURL, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	// Neither command makes roles: no IAM domain is needed.
	svc := sso.New(store, nil, sso.Options{Account: *defaultAccount})
	switch cmd {
	case "set-password":
		pw := *password
		if *fromStdin {
			if pw != "" {
				return errors.New("give --password or --password-stdin, not both")
			}
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read the password from standard input: %w", err)
			}
			pw = strings.TrimRight(line, "\r\n")
		}
		if pw == "" {
			return errors.New("give the password with --password-stdin (or --password)")
		}
		if err := svc.SetPassword(ctx, *user, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password set for %s\n", *user)
	case "approve":
		if *userCode == "" {
			return errors.New("--user-code is required")
		}
		if err := svc.ApproveDevice(ctx, *userCode, *user); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "approved %s for %s\n", sso.NormalizeUserCode(*userCode), *user)
	}
	return nil
}
