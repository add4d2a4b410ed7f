package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/server"
)

const adminUsage = `Usage:
  berth admin create-account [--data DIR | --meta URL] [--account-id ID] [--output text|json]
      create an account and print its root credentials (shown once)
  berth admin list-accounts [--data DIR | --meta URL]
      list the accounts created with create-account
  berth admin migrate --from-data DIR --meta URL --blobs URL [--dry-run]
      copy an embedded deployment into PostgreSQL and S3 (berth admin migrate -h)
  berth admin gc [--data DIR | --meta URL --blobs URL] [--grace D]
      collect garbage once, now, beside running servers (berth admin gc -h)
  berth admin public-alias set --account ID --alias NAME | list [--data DIR | --meta URL]
      give an account's ECR Public registry a custom alias, or list them
  berth admin sso set-password|approve …
      IAM Identity Center users' passwords and device sign-ins (berth admin sso -h)

--meta (BERTH_META) names the metadata store as berth serve's does
(sqlite:PATH or postgres://…); without it, the embedded database in --data.

A running berth sees new accounts at once: identities are read from the
database on every request. The default account (--default-account of berth
serve) is not one of these; its root keys come from the configuration.
`

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// admin runs `berth admin <command>` against the data directory's
// database, alongside a running server or not.
func admin(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "migrate":
		return adminMigrate(args, stdout, stderr, getenv)
	case "gc":
		return adminGC(args, stdout, stderr, getenv)
	case "public-alias":
		return adminPublicAlias(args, stdout, stderr, getenv)
	case "sso":
		return adminSSO(args, stdout, stderr, getenv, os.Stdin)
	}
	fs := flag.NewFlagSet("berth admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "BERTH_DATA", "./berth-data"), "data directory of the berth whose accounts to manage")
	metaURL := fs.String("meta", envOr(getenv, "BERTH_META", ""), "metadata store URL, as berth serve --meta (default: the embedded database in --data)")
	defaultAccount := fs.String("default-account", envOr(getenv, "BERTH_DEFAULT_ACCOUNT", "000000000000"), "the server's default account, which cannot be created here")
	var accountID, output *string
	switch cmd {
	case "create-account":
		accountID = fs.String("account-id", "", "12-digit id of the new account (default: random)")
		output = fs.String("output", "text", "text or json")
	case "list-accounts":
	default:
		return fmt.Errorf("unknown admin command %q\n\n%s", cmd, adminUsage)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	store, err := openExistingMeta(context.Background(), *metaURL, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	if cmd == "list-accounts" {
		return listAccounts(ctx, store, stdout)
	}
	return createAccount(ctx, store, stdout, *accountID, *defaultAccount, *output)
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func createAccount(ctx context.Context, store meta.IAMStore, stdout io.Writer, id, defaultAccount, output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: use text or json", output)
	}
	if id != "" && !accountIDRE.MatchString(id) {
		return fmt.Errorf("--account-id %q: an account id is 12 digits", id)
	}
	if id == defaultAccount {
		return fmt.Errorf("account %s is the server's default account, whose root keys come from its configuration", id)
	}
	var creds authn.RootCredentials
	for attempt := 0; ; attempt++ {
		account := id
		if account == "" {
			account = randomAccountID()
			if account == defaultAccount {
				continue
			}
		}
		creds = authn.NewRootCredentials(account)
		key := &meta.IAMAccessKey{ID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, Status: "Active", CreatedAt: time.Now().UTC()}
		err := store.CreateAccount(ctx, &meta.IAMAccount{ID: account, CreatedAt: time.Now().UTC()}, key)
		var ie *meta.IAMError
		taken := errors.As(err, &ie) && errors.Is(err, meta.ErrIAMExists)
		switch {
		case err == nil:
		case taken && ie.What == meta.IAMWhatAccount && id != "":
			return fmt.Errorf("account %s already exists", id)
		case taken && attempt < 5:
			continue // a random id that is taken: draw again
		default:
			return err
		}
		break
	}
	if output == "json" {
		b, _ := json.MarshalIndent(creds, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	fmt.Fprintf(stdout, `Created account %s. Its root credentials (shown only now):

  AWS_ACCESS_KEY_ID=%s
  AWS_SECRET_ACCESS_KEY=%s
`, creds.Account, creds.AccessKeyID, creds.SecretAccessKey)
	return nil
}

// randomAccountID is 12 random digits.
func randomAccountID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%012d", n)
}

func listAccounts(ctx context.Context, store meta.IAMStore, stdout io.Writer) error {
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tCREATED")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%s\n", a.ID, a.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// openExistingMeta opens the metadata store an admin command works on.
// Without --meta that is the embedded database in data, which must
// already exist: the store would create the directory, and a command run
// on a misspelled one would write where no server reads.
func openExistingMeta(ctx context.Context, metaURL, data string) (meta.Store, error) {
	if metaURL == "" {
		if _, err := os.Stat(data); err != nil {
			return nil, fmt.Errorf("data directory %s: %w (run berth serve --data %s once first)", data, err, data)
		}
	}
	return server.OpenMeta(ctx, metaURL, data)
}
