package policy

import (
	"strings"
)

// principals is a Principal or NotPrincipal element.
type principals struct {
	// star is Principal "*" written as a bare string.
	star bool
	aws  strList
	svc  strList
	// compiled
	all      bool // "*" or {"AWS": "*"}
	accounts []string
	arns     []string // users, federated users and role sessions, matched exactly
	roles    []roleRef
	services []string
}

type roleRef struct{ account, name string }

// grant is how a Principal element names the caller.
type grant uint8

const (
	noGrant grant = iota
	// delegated: the element names the caller's account, which hands the
	// decision to the account's identity-based policies.
	delegated
	// direct: the element names the caller itself (or everyone), which is
	// enough on its own within the resource's account.
	direct
)

// addAWS records one AWS principal; msg says what is wrong with it.
func (ps *principals) addAWS(v string) (msg string) {
	if v == "*" {
		ps.all = true
		return ""
	}
	if strings.ContainsAny(v, "*?") {
		return "wildcards are not allowed in principals except \"*\" alone"
	}
	if isAccountID(v) {
		ps.accounts = append(ps.accounts, v)
		return ""
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) {
		return quote(v) + " is not an account ID or an IAM or STS ARN"
	}
	account, res := parts[4], parts[5]
	switch parts[2] {
	case "iam":
		switch {
		case res == "root":
			ps.accounts = append(ps.accounts, account)
			return ""
		case strings.HasPrefix(res, "user/") && lastSegment(res) != "":
			ps.arns = append(ps.arns, v)
			return ""
		case strings.HasPrefix(res, "role/") && lastSegment(res) != "":
			ps.roles = append(ps.roles, roleRef{account, lastSegment(res)})
			return ""
		}
	case "sts":
		if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, session, found := strings.Cut(rest, "/")
			if found && role != "" && session != "" && !strings.Contains(session, "/") {
				ps.arns = append(ps.arns, v)
				return ""
			}
		}
		if name, ok := strings.CutPrefix(res, "federated-user/"); ok && name != "" {
			ps.arns = append(ps.arns, v)
			return ""
		}
	}
	return quote(v) + " is not a root, user, role, assumed-role or federated-user ARN"
}

func (ps *principals) addService(v string) (msg string) {
	if v == "*" {
		ps.all = true
		return ""
	}
	if v == "" || strings.ContainsAny(v, "*? /:") || !strings.Contains(v, ".") {
		return quote(v) + " is not a service principal such as replication.ecr.amazonaws.com"
	}
	ps.services = append(ps.services, v)
	return ""
}

// match is how the element names the request's principal.
func (ps *principals) match(c *evalCtx) grant {
	if ps.all {
		return direct
	}
	p := &c.req.Principal
	switch p.Type {
	case Anonymous:
		return noGrant
	case Service:
		for _, s := range ps.services {
			if strings.EqualFold(s, p.ARN) {
				return direct
			}
		}
		return noGrant
	}
	for _, a := range ps.arns {
		if a == p.ARN {
			return direct
		}
	}
	if p.Type == AssumedRole && ps.namesRole(c) {
		return direct
	}
	if contains(ps.accounts, p.Account) {
		if p.Type == Root {
			return direct
		}
		return delegated
	}
	return noGrant
}

// excludes reports whether NotPrincipal lists the principal so completely
// that a statement does not apply to it. IAM may evaluate a caller as its
// account, then its role, then itself, so each of them must be listed; a
// NotPrincipal naming only a user still applies through the user's account.
func (ps *principals) excludes(c *evalCtx) bool {
	if ps.all {
		return true
	}
	p := &c.req.Principal
	switch p.Type {
	case Anonymous:
		return false
	case Service:
		return ps.match(c) == direct
	case Root:
		return contains(ps.accounts, p.Account)
	case AssumedRole:
		return contains(ps.accounts, p.Account) && ps.namesRole(c) && contains(ps.arns, p.ARN)
	}
	return contains(ps.accounts, p.Account) && contains(ps.arns, p.ARN)
}

// namesRole reports whether a role ARN in the element is the session's
// role. Role names are unique in an account whatever their path.
func (ps *principals) namesRole(c *evalCtx) bool {
	if len(ps.roles) == 0 {
		return false
	}
	name := c.roleName()
	for _, r := range ps.roles {
		if r.account == c.req.Principal.Account && r.name == name {
			return true
		}
	}
	return false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lastSegment(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
