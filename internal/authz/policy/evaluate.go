package policy

import "strings"

// Decision is Evaluate's verdict.
type Decision uint8

const (
	// ImplicitDeny: nothing allows the request.
	ImplicitDeny Decision = iota
	Allow
	// ExplicitDeny: a Deny statement applies; no Allow can override it.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Result is a decision and, for a denial, the reason in IAM's words: the
// tail of "User: … is not authorized to perform: … on resource: … <Reason>".
type Result struct {
	Decision Decision
	Reason   string
}

// Allowed reports whether the request may go ahead.
func (r Result) Allowed() bool { return r.Decision == Allow }

// Message is the whole AccessDeniedException message ECR sends, or "" for
// an allowed request.
func (r Result) Message(req Request) string {
	if r.Decision == Allow {
		return ""
	}
	return "User: " + req.Principal.ARN + " is not authorized to perform: " + req.Action +
		" on resource: " + req.Resource + " " + r.Reason
}

// The reasons, as IAM words them.
func reasonNoIdentityPolicy(action string) string {
	return "because no identity-based policy allows the " + action + " action"
}

func reasonNoResourcePolicy(action string) string {
	return "because no resource-based policy allows the " + action + " action"
}

const (
	reasonIdentityDeny = "with an explicit deny in an identity-based policy"
	reasonResourceDeny = "with an explicit deny in a resource-based policy"
)

// Evaluate decides req against the policies that bear on it: the
// principal's identity-based policies (a user's inline, attached and group
// policies, or its role's), the repository's policy, and the registry
// policy. Nil policies are skipped. A registry policy counts only for
// requests made for replication or pull through cache (req.Feature) on the
// actions it governs.
//
// The rules are IAM's: an explicit Deny anywhere wins. Within the
// resource's account, an Allow in an identity-based policy or a
// resource-based policy naming the caller suffices; a resource-based
// policy naming only the caller's account hands the decision to the
// identity-based policies. Across accounts both sides must allow. The root
// user needs no identity-based policy.
func Evaluate(req Request, policies ...*Policy) Result {
	c := evalCtx{req: req}
	c.service, c.name, _ = strings.Cut(req.Action, ":")
	c.resN = splitARN(req.Resource, &c.resComps)

	var identityAllow, resourceAllow, resourceDirect, resourceDeny bool
	for _, p := range policies {
		if p == nil {
			continue
		}
		switch p.kind {
		case Identity:
			if req.Principal.Type == Anonymous || req.Principal.Type == Service {
				continue
			}
			for _, st := range p.stmts {
				if !st.applies(&c) {
					continue
				}
				if st.deny {
					// Nothing outranks it, not even a resource-based deny.
					return Result{ExplicitDeny, reasonIdentityDeny}
				}
				identityAllow = true
			}
		case Registry:
			if !registryGoverns(&c.req) {
				continue
			}
			fallthrough
		case Repository:
			for _, st := range p.stmts {
				g := st.grantTo(&c)
				if g == noGrant || !st.applies(&c) {
					continue
				}
				if st.deny {
					resourceDeny = true
					continue
				}
				resourceAllow = true
				if g == direct {
					resourceDirect = true
				}
			}
		}
	}

	if resourceDeny {
		return Result{ExplicitDeny, reasonResourceDeny}
	}
	p := &c.req.Principal
	identityOK := identityAllow || p.Type == Root
	switch {
	case p.Type == Anonymous || p.Type == Service:
		// No identity-based policy to consult: the resource decides.
		if resourceAllow {
			return Result{Decision: Allow}
		}
		return Result{ImplicitDeny, reasonNoResourcePolicy(req.Action)}
	case req.ResourceAccount == "" || req.ResourceAccount == p.Account:
		if identityOK || resourceDirect {
			return Result{Decision: Allow}
		}
		return Result{ImplicitDeny, reasonNoIdentityPolicy(req.Action)}
	case !resourceAllow:
		return Result{ImplicitDeny, reasonNoResourcePolicy(req.Action)}
	case !identityOK:
		return Result{ImplicitDeny, reasonNoIdentityPolicy(req.Action)}
	}
	return Result{Decision: Allow}
}

// registryGoverns reports whether the registry policy bears on req: ECR
// consults it only for replication and pull through cache, and only for
// the actions it can grant.
func registryGoverns(req *Request) bool {
	if req.Feature == NoFeature {
		return false
	}
	for _, a := range registryActions {
		if strings.EqualFold(req.Action, a) {
			return true
		}
	}
	return false
}

// grantTo is how a resource-based statement's Principal or NotPrincipal
// names the caller.
func (st *statement) grantTo(c *evalCtx) grant {
	if st.principal == nil {
		return noGrant
	}
	if st.notPrincipal {
		if st.principal.excludes(c) {
			return noGrant
		}
		// Everyone not listed: as broad as "*".
		return direct
	}
	return st.principal.match(c)
}

// applies reports whether the statement's Action, Resource and Condition
// all match. A policy variable that cannot be resolved voids the statement.
func (st *statement) applies(c *evalCtx) bool {
	matched := false
	for i := range st.actions {
		if st.actions[i].match(c) {
			matched = true
			break
		}
	}
	if matched == st.notAction {
		return false
	}
	if st.hasResource {
		matched = false
		for i := range st.resources {
			m, valid := st.resources[i].matchComps(c, &c.resComps, c.resN)
			if !valid {
				return false
			}
			// With variables, look at every ARN: an unresolvable one voids
			// the statement whatever the others say.
			if m {
				matched = true
				if !st.resourceVars {
					break
				}
			}
		}
		if matched == st.notResource {
			return false
		}
	}
	for _, cond := range st.conds {
		holds, valid := cond.eval(c)
		if !valid || !holds {
			return false
		}
	}
	return true
}
