package policy

import (
	"sort"
	"strings"
)

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
	return decide(req, nil, policies)
}

// Match is a statement that bore on a decision.
type Match struct {
	// Policy is the index of the statement's document among the policies
	// given to Explain; Statement its index in that document's Statement.
	Policy, Statement int
	Deny              bool
}

// Explanation is a decision with what made it, for IAM's policy simulator.
type Explanation struct {
	Result
	// Matched are the statements that decided: every Deny that applies for
	// an explicit deny (as IAM lists only those), every Allow that applies
	// for an allow, none for an implicit deny.
	Matched []Match
	// Missing are the condition keys that the statements whose Action and
	// Resource match read and the request lacks, sorted, without repeats.
	Missing []string
}

// Explain is Evaluate, saying which statements matched. It runs the very
// code Evaluate runs, so that a simulation cannot disagree with
// enforcement; it only records as it goes, and so looks at every
// statement where Evaluate may stop at the first explicit deny.
func Explain(req Request, policies ...*Policy) Explanation {
	rec := &recorder{}
	res := decide(req, rec, policies)
	ex := Explanation{Result: res}
	switch res.Decision {
	case ExplicitDeny:
		for _, m := range rec.matched {
			if m.Deny {
				ex.Matched = append(ex.Matched, m)
			}
		}
	case Allow:
		for _, m := range rec.matched {
			if !m.Deny {
				ex.Matched = append(ex.Matched, m)
			}
		}
	}
	for k := range rec.missing {
		ex.Missing = append(ex.Missing, k)
	}
	sort.Strings(ex.Missing)
	return ex
}

// recorder notes, for Explain, the statements that apply and the
// condition keys the request lacks.
type recorder struct {
	matched []Match
	missing map[string]bool
}

func (r *recorder) missingKey(name string) {
	if r.missing == nil {
		r.missing = map[string]bool{}
	}
	r.missing[name] = true
}

// decide is Evaluate; rec, when not nil, is told what applies.
func decide(req Request, rec *recorder, policies []*Policy) Result {
	c := evalCtx{req: req, rec: rec}
	c.service, c.name, _ = strings.Cut(req.Action, ":")
	c.resN = splitARN(req.Resource, &c.resComps)

	var identityAllow, identityDeny, resourceAllow, resourceDirect, resourceDeny bool
	for pi, p := range policies {
		if p == nil {
			continue
		}
		switch p.kind {
		case Identity:
			if req.Principal.Type == Anonymous || req.Principal.Type == Service {
				continue
			}
			for si, st := range p.stmts {
				if !st.applies(&c) {
					continue
				}
				if rec != nil {
					rec.matched = append(rec.matched, Match{Policy: pi, Statement: si, Deny: st.deny})
				}
				if st.deny {
					// Nothing outranks it, not even a resource-based deny:
					// Evaluate need look no further.
					identityDeny = true
					if rec == nil {
						return Result{ExplicitDeny, reasonIdentityDeny}
					}
					continue
				}
				identityAllow = true
			}
		case Registry:
			if !registryGoverns(&c.req) {
				continue
			}
			fallthrough
		case Repository:
			for si, st := range p.stmts {
				g := st.grantTo(&c)
				if g == noGrant || !st.applies(&c) {
					continue
				}
				if rec != nil {
					rec.matched = append(rec.matched, Match{Policy: pi, Statement: si, Deny: st.deny})
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

	if identityDeny {
		return Result{ExplicitDeny, reasonIdentityDeny}
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
	ok := true
	for _, cond := range st.conds {
		holds, valid := cond.eval(c)
		if !valid || !holds {
			ok = false
			// Explain reads on, to learn every key the request lacks.
			if c.rec == nil {
				return false
			}
		}
	}
	return ok
}
