package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// printWelcome tells a newcomer how to reach Berth with the AWS CLI and
// docker. The secret is shown once, when it is generated; afterwards the
// message says where it is kept.
func (s *Server) printWelcome() {
	base := s.baseURL()
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	var b strings.Builder
	fmt.Fprintf(&b, "\nBerth registry %s (%s) at %s\n\n", s.cfg.DefaultAccount, s.cfg.DefaultRegion, base)
	switch {
	case s.cfg.AccessKeyID != "":
		fmt.Fprintf(&b, "Root credentials come from the environment (access key %s).\n", s.root.AccessKeyID)
	case s.newRoot:
		fmt.Fprintf(&b, "Generated root credentials, kept in %s:\n", filepath.Join(s.cfg.DataDir, "root-credentials.json"))
		fmt.Fprintf(&b, "  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n", s.root.AccessKeyID, s.root.SecretAccessKey)
	default:
		fmt.Fprintf(&b, "Root credentials (access key %s) are in %s.\n", s.root.AccessKeyID, filepath.Join(s.cfg.DataDir, "root-credentials.json"))
	}
	fmt.Fprintf(&b, "  export AWS_DEFAULT_REGION=%s AWS_ENDPOINT_URL=%s\n\n", s.cfg.DefaultRegion, base)
	fmt.Fprintf(&b, "Then, as with ECR:\n")
	fmt.Fprintf(&b, "  aws ecr create-repository --repository-name my-app\n")
	fmt.Fprintf(&b, "  aws ecr get-login-password | docker login --username AWS --password-stdin %s\n", host)
	fmt.Fprintf(&b, "  docker tag my-app:latest %s/my-app:latest && docker push %s/my-app:latest\n\n", host, host)
	fmt.Fprint(os.Stderr, b.String())
}
