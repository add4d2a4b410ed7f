package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-registry/berth/internal/authn"
)

// rootCredentialsPath is where the default account's generated root
// credentials are kept.
func (s *Server) rootCredentialsPath() string {
	return filepath.Join(s.cfg.DataDir, "root-credentials.json")
}

// printNewRoot shows root credentials the moment they are generated.
func printNewRoot(w io.Writer, root authn.RootCredentials, path string) {
	fmt.Fprintf(w, "\nGenerated root credentials for account %s, kept in %s:\n", root.Account, path)
	fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n", root.AccessKeyID, root.SecretAccessKey)
	fmt.Fprintf(w, "Show them again with: %s\n\n", showRootCommand(path))
}

// showRootCommand is the command that prints the kept root credentials.
func showRootCommand(path string) string { return "cat " + path }

// printWelcome tells a newcomer how to reach Berth with the AWS CLI and
// docker. The secret is shown once, when it is generated (printNewRoot);
// every start says which command shows it again.
func (s *Server) printWelcome() {
	base := s.baseURL()
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	var b strings.Builder
	fmt.Fprintf(&b, "\nBerth registry %s (%s) at %s\n\n", s.cfg.DefaultAccount, s.cfg.DefaultRegion, base)
	if s.cfg.AccessKeyID != "" {
		fmt.Fprintf(&b, "Root credentials come from the environment (access key %s).\n", s.root.AccessKeyID)
	} else {
		fmt.Fprintf(&b, "Root credentials (access key %s) are kept in %s; show them with:\n", s.root.AccessKeyID, s.rootCredentialsPath())
		fmt.Fprintf(&b, "  %s\n", showRootCommand(s.rootCredentialsPath()))
		fmt.Fprintf(&b, "and export them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n")
	}
	fmt.Fprintf(&b, "  export AWS_DEFAULT_REGION=%s AWS_ENDPOINT_URL=%s\n\n", s.cfg.DefaultRegion, base)
	fmt.Fprintf(&b, "Then, as with ECR:\n")
	fmt.Fprintf(&b, "  aws ecr create-repository --repository-name my-app\n")
	fmt.Fprintf(&b, "  aws ecr get-login-password | docker login --username AWS --password-stdin %s\n", host)
	fmt.Fprintf(&b, "  docker tag my-app:latest %s/my-app:latest && docker push %s/my-app:latest\n\n", host, host)
	fmt.Fprint(os.Stderr, b.String())
}
