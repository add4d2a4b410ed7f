package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

const publicAliasUsage = `Usage:
  berth admin public-alias set --account ID --alias NAME [--data DIR | --meta URL]
      give the account's ECR Public registry a custom alias: its repositories
      are then <public host>/NAME/<name>, and its default alias b<account>
      keeps working (an account has one custom alias; set replaces it)
  berth admin public-alias list [--data DIR | --meta URL]
      list the custom aliases
`

// adminPublicAlias runs `berth admin public-alias set|list`: ECR Public
// has its owner request a custom alias in the console; here the operator
// sets it.
func adminPublicAlias(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, publicAliasUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("berth admin public-alias "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "BERTH_DATA", "./berth-data"), "data directory of the berth whose aliases to manage")
	metaURL := fs.String("meta", envOr(getenv, "BERTH_META", ""), "metadata store URL, as berth serve --meta (default: the embedded database in --data)")
	var account, alias *string
	switch sub {
	case "set":
		account = fs.String("account", "", "12-digit id of the account whose public registry gets the alias")
		alias = fs.String("alias", "", "the alias: 2 to 50 lower-case letters and digits, with . _ - between them, starting with a letter")
	case "list":
	default:
		return fmt.Errorf("unknown public-alias command %q\n\n%s", sub, publicAliasUsage)
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if sub == "set" {
		if !accountIDRE.MatchString(*account) {
			return fmt.Errorf("--account %q: an account id is 12 digits", *account)
		}
		if err := registry.ValidatePublicAlias(*alias); err != nil {
			return fmt.Errorf("--alias: %w", err)
		}
	}
	ctx := context.Background()
	store, err := openExistingMeta(ctx, *metaURL, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	if sub == "list" {
		return listPublicAliases(ctx, store, stdout)
	}
	err = store.SetPublicAlias(ctx, meta.PublicAlias{Alias: *alias, Account: *account, CreatedAt: time.Now().UTC()})
	if errors.Is(err, meta.ErrPublicAliasTaken) {
		owner, _ := store.PublicAliasAccount(ctx, *alias)
		return fmt.Errorf("the alias %s belongs to the public registry of account %s", *alias, owner)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The public registry of account %s has the alias %s (and still %s).\n", *account, *alias, registry.DefaultPublicAlias(*account))
	return nil
}

func listPublicAliases(ctx context.Context, store meta.PublicStore, stdout io.Writer) error {
	as, err := store.ListPublicAliases(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tACCOUNT\tDEFAULT ALIAS\tSET")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Alias, a.Account, registry.DefaultPublicAlias(a.Account), a.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
