package iam

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
)

// This file is where IAM meets the policy engine (package policy): it
// checks the documents IAM stores and evaluates role trust policies.
// Every call into the engine is here, but for the AWS managed policies
// (managed.go) and the identity policies the authorizer reads
// (identity.go).

// validateIdentityPolicy checks a policy attached to a user, group or role
// (inline or managed), as PutUserPolicy and CreatePolicy do.
func validateIdentityPolicy(doc string) error {
	if !isJSONObject(doc) {
		return syntaxErrors()
	}
	if _, err := policy.Parse(policy.Identity, []byte(doc)); err != nil {
		return malformedPolicy(policyErrorMessage(err))
	}
	return nil
}

func isJSONObject(doc string) bool {
	var top map[string]json.RawMessage
	return json.Unmarshal([]byte(doc), &top) == nil && top != nil
}

// policyErrorMessage is the engine's account of what is wrong, without the
// engine's "invalid <kind>:" lead.
func policyErrorMessage(err error) string {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return strings.TrimPrefix(pe.Error(), "invalid "+pe.Kind.String()+": ")
	}
	return err.Error()
}

// Trust policies. The engine has no kind for a role's trust policy yet; it
// has the shape of a repository policy (a Principal in every statement, no
// Resource), so trust policies are checked and evaluated as Repository
// documents, after dropping the Federated principals the engine refuses
// (Terraform configurations routinely trust an OIDC provider).
// AssumeRoleWithWebIdentity evaluates a rewritten document instead
// (webTrustAllows). Replace both with the engine's own trust kind when it
// has one.

// validateTrustPolicy checks an AssumeRolePolicyDocument, as CreateRole and
// UpdateAssumeRolePolicy do.
func validateTrustPolicy(doc string) error {
	if !isJSONObject(doc) {
		return invalidJSON()
	}
	var top struct {
		Statement json.RawMessage
	}
	json.Unmarshal([]byte(doc), &top)
	for _, st := range statementsOf(top.Statement) {
		if _, ok := st["Resource"]; ok {
			return prohibitedField("Resource")
		}
		if _, ok := st["NotResource"]; ok {
			return prohibitedField("NotResource")
		}
	}
	if _, err := parseTrustPolicy(doc); err != nil {
		return malformedPolicy(policyErrorMessage(err))
	}
	return nil
}

// parseTrustPolicy compiles a trust policy for Evaluate; nil (and no
// error) when only Federated principals are trusted.
func parseTrustPolicy(doc string) (*policy.Policy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil || top == nil {
		return nil, errors.New("the trust policy is not a JSON object")
	}
	raw, ok := top["Statement"]
	if !ok {
		return policy.Parse(policy.Repository, []byte(doc)) // the engine says what is missing
	}
	all := statementsOf(raw)
	var kept []map[string]json.RawMessage
	for _, st := range all {
		if st != nil && !dropFederated(st) {
			continue
		}
		kept = append(kept, st) // a nil one: the engine says what is wrong
	}
	if len(kept) == 0 && len(all) > 0 {
		return nil, nil
	}
	top["Statement"], _ = json.Marshal(kept)
	text, _ := json.Marshal(top)
	return policy.Parse(policy.Repository, text)
}

// dropFederated removes Federated principals from a statement, and
// reports whether it still names any principal.
func dropFederated(st map[string]json.RawMessage) bool {
	for _, key := range []string{"Principal", "NotPrincipal"} {
		raw, ok := st[key]
		if !ok {
			continue
		}
		var byType map[string]json.RawMessage
		if json.Unmarshal(raw, &byType) != nil || byType == nil {
			continue // "*" or malformed: left to the engine
		}
		if _, ok := byType["Federated"]; !ok {
			continue
		}
		delete(byType, "Federated")
		if len(byType) == 0 {
			return false
		}
		st[key], _ = json.Marshal(byType)
	}
	return true
}

// statementsOf reads Statement, written as one statement or an array; an
// element that is not an object reads as nil.
func statementsOf(raw json.RawMessage) []map[string]json.RawMessage {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	var out []map[string]json.RawMessage
	for _, r := range list {
		var st map[string]json.RawMessage
		json.Unmarshal(r, &st)
		out = append(out, st)
	}
	return out
}

// allowAssumeRole stands for the caller's identity-based policies when the
// authorizer allows sts:AssumeRole: Evaluate then combines it with the
// trust policy as IAM combines the two sides.
var allowAssumeRole = sync.OnceValue(func() *policy.Policy {
	return policy.MustParse(policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
})

// trustAllows decides whether p may assume the role: the role's trust
// policy is the resource-based side; identityAllows, the authorizer's
// verdict on the caller's own policies, the identity-based side.
func trustAllows(doc string, p *authn.Principal, roleARN, roleAccount string, identityAllows bool, now time.Time, context map[string][]string) bool {
	trust, err := parseTrustPolicy(doc)
	if err != nil || trust == nil {
		return false
	}
	policies := []*policy.Policy{trust}
	if identityAllows {
		policies = append(policies, allowAssumeRole())
	}
	req := policy.Request{
		Principal: authz.PolicyPrincipal(p), Action: "sts:AssumeRole", Resource: roleARN, ResourceAccount: roleAccount,
		Time: now, Context: context,
	}
	return policy.Evaluate(req, policies...).Allowed()
}

// webIdentityPrincipal stands for the provider in the rewritten trust
// policy webTrustAllows evaluates: a service name no statement that
// survives the rewriting can name otherwise, since every other principal
// is dropped.
const webIdentityPrincipal = "web-identity.berth.invalid"

// webTrustAllows decides whether a token verified by providerARN may
// assume the role. The engine does not know Federated principals, so the
// trust policy is rewritten for this one caller: a statement whose
// Principal names the provider (or is "*") names webIdentityPrincipal
// instead; one naming only others is dropped; a NotPrincipal statement
// applies unless it names the provider. The rewritten document is then
// evaluated with the token's condition keys, and there is no
// identity-based side: the caller has no policies of its own.
func webTrustAllows(doc, providerARN, roleARN, roleAccount string, now time.Time, context map[string][]string) bool {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil || top == nil {
		return false
	}
	var kept []map[string]json.RawMessage
	for _, st := range statementsOf(top["Statement"]) {
		if st == nil {
			return false
		}
		if raw, ok := st["Principal"]; ok {
			if !namesProvider(raw, providerARN) {
				continue
			}
			st["Principal"], _ = json.Marshal(map[string]string{"Service": webIdentityPrincipal})
		}
		if raw, ok := st["NotPrincipal"]; ok {
			if namesProvider(raw, providerARN) {
				continue
			}
			delete(st, "NotPrincipal")
			st["Principal"] = json.RawMessage(`"*"`)
		}
		kept = append(kept, st)
	}
	if len(kept) == 0 {
		return false
	}
	top["Statement"], _ = json.Marshal(kept)
	text, _ := json.Marshal(top)
	trust, err := policy.Parse(policy.Repository, text)
	if err != nil {
		return false
	}
	req := policy.Request{
		Principal: policy.Principal{Type: policy.Service, ARN: webIdentityPrincipal},
		Action:    "sts:AssumeRoleWithWebIdentity", Resource: roleARN, ResourceAccount: roleAccount,
		Time: now, Context: context,
	}
	return policy.Evaluate(req, trust).Allowed()
}

// namesProvider reports whether a Principal element is "*" or lists
// providerARN among its Federated principals.
func namesProvider(raw json.RawMessage, providerARN string) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var byType map[string]json.RawMessage
	if json.Unmarshal(raw, &byType) != nil {
		return false
	}
	fed, ok := byType["Federated"]
	if !ok {
		return false
	}
	var list []string
	if json.Unmarshal(fed, &list) != nil {
		var one string
		if json.Unmarshal(fed, &one) != nil {
			return false
		}
		list = []string{one}
	}
	return slices.Contains(list, providerARN)
}
