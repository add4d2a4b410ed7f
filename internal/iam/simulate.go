package iam

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
)

// IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy).
// It asks the policy engine the question the authorizer asks
// (authz.PolicyRequest) with the identity policies the authorizer reads
// (PolicyReader.SourcedPolicies), through policy.Explain, which is
// Evaluate recording what matched: a simulation cannot disagree with
// enforcement. As in AWS, a resource's own policy is not read from the
// store: the caller passes it as ResourcePolicy.

// Simulation is what the simulator is asked.
type Simulation struct {
	// Source is PolicySourceArn: a user, group or role, a role session
	// (its role's policies are simulated, as the session's are its role's),
	// or the account's root. "" for SimulateCustomPolicy.
	Source string
	// Policies are PolicyInputList: identity policies added to the
	// source's.
	Policies []string
	Actions  []string
	// Resources are ResourceArns; none means "*".
	Resources      []string
	ResourcePolicy string
	// ResourceOwner is an account ID (or its root's ARN); "" means the
	// account in each resource's ARN, else the caller's.
	ResourceOwner string
	// Caller is CallerArn: a user to simulate as, with Source's policies.
	Caller  string
	Context []ContextEntry
}

// ContextEntry is a condition key's values for the simulation; Type is
// IAM's ContextKeyType (string, numericList, ip, …).
type ContextEntry struct {
	Key    string
	Values []string
	Type   string
}

// Evaluation is one action's result on one resource.
type Evaluation struct {
	Action, Resource string
	// Decision is allowed, explicitDeny or implicitDeny.
	Decision string
	Matched  []MatchedStatement
	// Missing are the condition keys the policies read that the
	// simulation's context lacks.
	Missing []string
	// PerResource is the result by resource (ResourceSpecificResults),
	// set when ResourceArns were given.
	PerResource []ResourceEvaluation
}

// ResourceEvaluation is an Evaluation's result on one resource.
type ResourceEvaluation struct {
	Resource, Decision string
	Matched            []MatchedStatement
	Missing            []string
}

// MatchedStatement names a statement that decided. Start and End are
// nil where the document's text is not at hand (AWS managed policies).
type MatchedStatement struct {
	SourcePolicyID, SourcePolicyType string
	Start, End                       *Position
}

// Position is a place in a policy document: line and column from 1.
type Position struct{ Line, Column int }

// sourced is a document the simulation evaluates and where it comes from.
type sourced struct {
	doc       *policy.Policy
	id, kind  string
	positions []statementSpan
}

// Simulate answers the policy simulator for a caller of account.
func (s *Service) Simulate(ctx context.Context, account string, sim Simulation) ([]Evaluation, error) {
	var (
		principal *authn.Principal
		docs      []sourced
	)
	if sim.Source != "" {
		p, owners, err := s.simulatedPrincipal(ctx, account, sim.Source)
		if err != nil {
			return nil, err
		}
		principal = p
		ids, err := s.policies.SourcedPolicies(ctx, p.Account, owners)
		if err != nil {
			return nil, err
		}
		for _, sp := range ids {
			docs = append(docs, sourced{doc: sp.Policy, id: sp.ID, kind: sp.Type, positions: statementSpans(sp.Document)})
		}
	}
	if sim.Caller != "" {
		p, err := s.simulatedCaller(ctx, account, sim.Caller)
		if err != nil {
			return nil, err
		}
		principal = p
	}
	if principal == nil {
		if sim.ResourcePolicy != "" {
			return nil, errorf(ErrInvalidInput, "CallerArn is required to simulate a ResourcePolicy without a PolicySourceArn.")
		}
		// Custom policies alone: a nameless user of the caller's account,
		// for whom identity policies count.
		principal = &authn.Principal{Kind: authn.KindUser, Account: account}
	}
	for i, text := range sim.Policies {
		doc, err := parseSimulated(policy.Identity, text, fmt.Sprintf("PolicyInputList.%d", i+1))
		if err != nil {
			return nil, err
		}
		docs = append(docs, sourced{doc: doc, id: fmt.Sprintf("PolicyInputList.%d", i+1), kind: "none", positions: statementSpans(text)})
	}
	if sim.ResourcePolicy != "" {
		doc, err := parseSimulated(policy.Repository, sim.ResourcePolicy, "ResourcePolicy")
		if err != nil {
			return nil, err
		}
		docs = append(docs, sourced{doc: doc, id: "ResourcePolicy", kind: "resource", positions: statementSpans(sim.ResourcePolicy)})
	}
	owner, err := resourceOwner(sim.ResourceOwner)
	if err != nil {
		return nil, err
	}
	keys, secure, timeGiven, err := contextOf(sim.Context)
	if err != nil {
		return nil, err
	}

	resources := sim.Resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	policies := make([]*policy.Policy, len(docs))
	for i := range docs {
		policies[i] = docs[i].doc
	}
	now := s.now()
	var out []Evaluation
	for _, action := range sim.Actions {
		for _, resource := range resources {
			r := authz.Request{Principal: principal, Action: action, Resource: resource,
				ResourceAccount: ownerOf(resource, owner, principal.Account), SecureTransport: secure}
			req := authz.PolicyRequest(r, now)
			req.Context = keys
			if timeGiven {
				// The engine reads aws:CurrentTime and aws:EpochTime from
				// the context only when the request has no time of its own.
				req.Time = time.Time{}
			}
			ex := policy.Explain(req, policies...)
			ev := Evaluation{Action: action, Resource: resource, Decision: decisionName(ex.Decision),
				Matched: matchedStatements(ex.Matched, docs), Missing: ex.Missing}
			if len(sim.Resources) > 0 {
				ev.PerResource = []ResourceEvaluation{{Resource: resource, Decision: ev.Decision, Matched: ev.Matched, Missing: ev.Missing}}
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

func decisionName(d policy.Decision) string {
	switch d {
	case policy.Allow:
		return "allowed"
	case policy.ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

func matchedStatements(ms []policy.Match, docs []sourced) []MatchedStatement {
	var out []MatchedStatement
	for _, m := range ms {
		d := docs[m.Policy]
		st := MatchedStatement{SourcePolicyID: d.id, SourcePolicyType: d.kind}
		if m.Statement < len(d.positions) {
			span := d.positions[m.Statement]
			st.Start, st.End = &span.start, &span.end
		}
		out = append(out, st)
	}
	return out
}

// SimulatedARN is the IAM resource a simulation of source is authorized
// on: a role session's role, else source itself.
func SimulatedARN(source string) string {
	if partition, account, role, ok := sessionRole(source); ok {
		return "arn:" + partition + ":iam::" + account + ":role/" + role
	}
	return source
}

// sessionRole splits arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
func sessionRole(arn string) (partition, account, role string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "assumed-role/")
	if !found {
		return "", "", "", false
	}
	role, session, found := strings.Cut(rest, "/")
	if !found || role == "" || session == "" {
		return "", "", "", false
	}
	return parts[1], parts[4], role, true
}

// simulationSession names the session a role is simulated in when the
// source is the role itself: its policies are those of any session.
const simulationSession = "SimulatePrincipalPolicy"

// simulatedPrincipal is who a PolicySourceArn stands for, and the owners
// of its identity policies.
func (s *Service) simulatedPrincipal(ctx context.Context, account, source string) (*authn.Principal, []Owner, error) {
	parts := strings.SplitN(source, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[4] != account {
		return nil, nil, invalidEntityARN(source)
	}
	if _, _, role, ok := sessionRole(source); ok {
		e, err := s.Entity(ctx, account, Role, role)
		if err != nil {
			return nil, nil, err
		}
		session := source[strings.LastIndexByte(source, '/')+1:]
		return &authn.Principal{Kind: authn.KindAssumedRole, Account: account, ARN: source, UserID: e.ID + ":" + session,
			RoleName: e.Name, RoleARN: EntityARN(e)}, []Owner{{Role, e.Name}}, nil
	}
	if parts[2] != "iam" {
		return nil, nil, invalidEntityARN(source)
	}
	if parts[5] == "root" {
		// Not in AWS, which refuses the root's ARN: Berth simulates it, so
		// that berth doctor can ask for a root as for anyone.
		return &authn.Principal{Kind: authn.KindRoot, Account: account, ARN: source, UserID: account}, nil, nil
	}
	kind, pathName, _ := strings.Cut(parts[5], "/")
	name := pathName[strings.LastIndexByte(pathName, '/')+1:]
	if name == "" || (kind != string(User) && kind != string(Group) && kind != string(Role)) {
		return nil, nil, invalidEntityARN(source)
	}
	e, err := s.Entity(ctx, account, Kind(kind), name)
	if err != nil {
		return nil, nil, err
	}
	if EntityARN(e) != source {
		// The name exists on another path: not the entity the ARN names.
		return nil, nil, errorf(ErrNoSuchEntity, "The %s with name %s cannot be found.", kind, name)
	}
	p := &authn.Principal{Account: account, ARN: EntityARN(e), UserID: e.ID}
	switch Kind(kind) {
	case User:
		p.Kind, p.UserName = authn.KindUser, e.Name
	case Group:
		// A group is no principal: its members are simulated, as a user
		// with the group's policies alone.
		p.Kind = authn.KindUser
	case Role:
		p.Kind, p.RoleName, p.RoleARN = authn.KindAssumedRole, e.Name, EntityARN(e)
		p.ARN = "arn:" + parts[1] + ":sts::" + account + ":assumed-role/" + e.Name + "/" + simulationSession
		p.UserID = e.ID + ":" + simulationSession
	}
	return p, []Owner{{Kind(kind), e.Name}}, nil
}

// simulatedCaller is CallerArn: a user of the account.
func (s *Service) simulatedCaller(ctx context.Context, account, caller string) (*authn.Principal, error) {
	parts := strings.SplitN(caller, ":", 6)
	kind, pathName, _ := strings.Cut(parts[len(parts)-1], "/")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] != account || kind != string(User) {
		return nil, errorf(ErrInvalidInput, "Invalid CallerArn: %s is not the ARN of an IAM user of this account.", caller)
	}
	e, err := s.Entity(ctx, account, User, pathName[strings.LastIndexByte(pathName, '/')+1:])
	if err != nil {
		return nil, err
	}
	return &authn.Principal{Kind: authn.KindUser, Account: account, ARN: EntityARN(e), UserID: e.ID, UserName: e.Name}, nil
}

// parseSimulated compiles a document given to the simulator; what names
// the parameter in a refusal.
func parseSimulated(kind policy.Kind, text, what string) (*policy.Policy, error) {
	if !isJSONObject(text) {
		return nil, errorf(ErrInvalidInput, "%s: Syntax errors in policy.", what)
	}
	doc, err := policy.Parse(kind, []byte(text))
	if err != nil {
		return nil, errorf(ErrInvalidInput, "%s: %s", what, policyErrorMessage(err))
	}
	return doc, nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// resourceOwner reads ResourceOwner: an account ID or its root's ARN.
func resourceOwner(v string) (string, error) {
	if v == "" || accountID.MatchString(v) {
		return v, nil
	}
	if parts := strings.SplitN(v, ":", 6); len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" &&
		accountID.MatchString(parts[4]) && parts[5] == "root" {
		return parts[4], nil
	}
	return "", errorf(ErrInvalidInput, "'%s' is not a valid as a Resource Owner.", v)
}

// ownerOf is the account owning resource: ResourceOwner, else the account
// its ARN names (as the authorizer reads a repository's), else the
// caller's.
func ownerOf(resource, owner, caller string) string {
	if owner != "" {
		return owner
	}
	if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 && accountID.MatchString(parts[4]) {
		return parts[4]
	}
	return caller
}

// contextOf reads ContextEntries into the engine's request context,
// checking each value against its type. aws:SecureTransport is a field of
// the request, which the engine always reads; a context giving
// aws:CurrentTime or aws:EpochTime replaces the simulation's clock.
func contextOf(entries []ContextEntry) (keys map[string][]string, secure, timeGiven bool, err error) {
	keys = map[string][]string{}
	for _, e := range entries {
		if e.Key == "" {
			return nil, false, false, errorf(ErrInvalidInput, "A context entry has no ContextKeyName.")
		}
		for _, v := range e.Values {
			if !validContextValue(e.Type, v) {
				return nil, false, false, errorf(ErrInvalidInput, "Invalid value '%s' for context key %s of type %s.", v, e.Key, e.Type)
			}
		}
		keys[e.Key] = append(keys[e.Key], e.Values...)
		switch strings.ToLower(e.Key) {
		case "aws:securetransport":
			secure = len(e.Values) > 0 && strings.EqualFold(e.Values[0], "true")
		case "aws:currenttime", "aws:epochtime":
			timeGiven = true
		}
	}
	return keys, secure, timeGiven, nil
}

func validContextValue(typ, v string) bool {
	switch strings.TrimSuffix(typ, "List") {
	case "numeric":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case "boolean":
		return strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	case "ip":
		if _, err := netip.ParseAddr(v); err == nil {
			return true
		}
		_, err := netip.ParsePrefix(v)
		return err == nil
	case "date":
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			return true
		}
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case "binary":
		_, err := base64.StdEncoding.DecodeString(v)
		return err == nil
	}
	return true
}

// invalidEntityARN refuses a PolicySourceArn that names no user, group or
// role of the caller's account.
func invalidEntityARN(arn string) *Error {
	return errorf(ErrInvalidInput, "Invalid Entity Arn: %s does not clearly define entity type and name.", arn)
}
