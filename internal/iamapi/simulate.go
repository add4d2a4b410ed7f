package iamapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// IAM's policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy
// share their input, their answer and one function; the domain (iam.Simulate)
// decides with the authorizer's own code.

type contextEntryIn struct {
	ContextKeyName   string   `json:"ContextKeyName"`
	ContextKeyValues []string `json:"ContextKeyValues"`
	ContextKeyType   string   `json:"ContextKeyType"`
}

type simulateIn struct {
	PolicySourceArn                    string           `json:"PolicySourceArn"`
	PolicyInputList                    []string         `json:"PolicyInputList"`
	PermissionsBoundaryPolicyInputList []string         `json:"PermissionsBoundaryPolicyInputList"`
	ActionNames                        []string         `json:"ActionNames"`
	ResourceArns                       []string         `json:"ResourceArns"`
	ResourcePolicy                     string           `json:"ResourcePolicy"`
	ResourceOwner                      string           `json:"ResourceOwner"`
	CallerArn                          string           `json:"CallerArn"`
	ContextEntries                     []contextEntryIn `json:"ContextEntries"`
	ResourceHandlingOption             string           `json:"ResourceHandlingOption"`
	MaxItems                           int              `json:"MaxItems"`
	Marker                             string           `json:"Marker"`
}

// onSimulated checks SimulatePrincipalPolicy on the simulated user, group
// or role (a session's role), in the account its ARN names.
func onSimulated(_ context.Context, c *awsapi.Call, in *simulateIn) ([]awsapi.Check, error) {
	arn := iam.SimulatedARN(in.PolicySourceArn)
	account := c.Principal.Account
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[4] != "" {
		account = parts[4]
	}
	return on(account, arn), nil
}

// onCustom checks SimulateCustomPolicy, which reads no entity, on "*".
func onCustom(_ context.Context, c *awsapi.Call, _ *simulateIn) ([]awsapi.Check, error) {
	return on(c.Principal.Account, "*"), nil
}

type positionXML struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

type statementXML struct {
	SourcePolicyID   string       `xml:"SourcePolicyId"`
	SourcePolicyType string       `xml:"SourcePolicyType"`
	StartPosition    *positionXML `xml:"StartPosition,omitempty"`
	EndPosition      *positionXML `xml:"EndPosition,omitempty"`
}

type resourceResultXML struct {
	EvalResourceName     string                       `xml:"EvalResourceName"`
	EvalResourceDecision string                       `xml:"EvalResourceDecision"`
	MatchedStatements    awsapi.XMLList[statementXML] `xml:"MatchedStatements"`
	MissingContextValues awsapi.XMLList[string]       `xml:"MissingContextValues"`
}

type evaluationXML struct {
	EvalActionName          string                             `xml:"EvalActionName"`
	EvalResourceName        string                             `xml:"EvalResourceName"`
	EvalDecision            string                             `xml:"EvalDecision"`
	MatchedStatements       awsapi.XMLList[statementXML]       `xml:"MatchedStatements"`
	MissingContextValues    awsapi.XMLList[string]             `xml:"MissingContextValues"`
	ResourceSpecificResults *awsapi.XMLList[resourceResultXML] `xml:"ResourceSpecificResults,omitempty"`
}

type simulateOut struct {
	EvaluationResults awsapi.XMLList[evaluationXML] `xml:"EvaluationResults"`
	truncation
}

// maxSimulations bounds the action × resource pairs one call evaluates,
// so that one request cannot make the server evaluate without end. Berth's
// bound; AWS's is not published.
const maxSimulations = 10000

func (a *API) simulate(ctx context.Context, c *awsapi.Call, in *simulateIn) (*simulateOut, error) {
	if len(in.PermissionsBoundaryPolicyInputList) > 0 {
		// Berth enforces no permissions boundaries; simulating one would
		// answer for a rule the server does not apply.
		return nil, &iam.Error{Kind: iam.ErrValidation, Message: "Berth does not support PermissionsBoundaryPolicyInputList yet"}
	}
	if n := len(in.ActionNames) * max(len(in.ResourceArns), 1); n > maxSimulations {
		return nil, &iam.Error{Kind: iam.ErrInvalidInput, Message: "The simulation asks for " + strconv.Itoa(n) +
			" action and resource pairs; at most " + strconv.Itoa(maxSimulations) + " are allowed."}
	}
	start := 0
	if in.Marker != "" {
		n, err := strconv.Atoi(in.Marker)
		if err != nil || n < 0 {
			return nil, &iam.Error{Kind: iam.ErrInvalidInput, Message: "Invalid Marker."}
		}
		start = n
	}
	sim := iam.Simulation{Source: in.PolicySourceArn, Policies: in.PolicyInputList, Actions: in.ActionNames, Resources: in.ResourceArns,
		ResourcePolicy: in.ResourcePolicy, ResourceOwner: in.ResourceOwner, Caller: in.CallerArn}
	for _, e := range in.ContextEntries {
		sim.Context = append(sim.Context, iam.ContextEntry{Key: e.ContextKeyName, Values: e.ContextKeyValues, Type: e.ContextKeyType})
	}
	results, err := a.iam.Simulate(ctx, c.Principal.Account, sim)
	if err != nil {
		return nil, err
	}
	limit := in.MaxItems
	if limit <= 0 {
		limit = 100
	}
	out := &simulateOut{}
	if start > len(results) {
		start = len(results)
	}
	page := results[start:]
	if len(page) > limit {
		page = page[:limit]
		out.IsTruncated, out.Marker = true, strconv.Itoa(start+limit)
	}
	out.EvaluationResults = members(page, evaluationOf)
	return out, nil
}

func evaluationOf(ev iam.Evaluation) evaluationXML {
	x := evaluationXML{EvalActionName: ev.Action, EvalResourceName: ev.Resource, EvalDecision: ev.Decision,
		MatchedStatements: members(ev.Matched, statementOf), MissingContextValues: awsapi.XMLList[string]{Member: ev.Missing}}
	if ev.PerResource != nil {
		x.ResourceSpecificResults = &awsapi.XMLList[resourceResultXML]{}
		for _, r := range ev.PerResource {
			x.ResourceSpecificResults.Member = append(x.ResourceSpecificResults.Member, resourceResultXML{
				EvalResourceName: r.Resource, EvalResourceDecision: r.Decision,
				MatchedStatements: members(r.Matched, statementOf), MissingContextValues: awsapi.XMLList[string]{Member: r.Missing}})
		}
	}
	return x
}

func statementOf(m iam.MatchedStatement) statementXML {
	x := statementXML{SourcePolicyID: m.SourcePolicyID, SourcePolicyType: m.SourcePolicyType}
	if m.Start != nil && m.End != nil {
		x.StartPosition = &positionXML{m.Start.Line, m.Start.Column}
		x.EndPosition = &positionXML{m.End.Line, m.End.Column}
	}
	return x
}
