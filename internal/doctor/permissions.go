package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The actions docker needs, in the order a pull and a push use them.
var (
	pullActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
	pushActions = []string{"ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"}
)

// checkPermissions asks IAM's policy simulator whether the identity may
// pull and push, with the repository's policy when it can read it; where
// the simulator does not answer (an identity of Amazon ECR without
// iam:SimulatePrincipalPolicy, a root there), it tries the first call of a
// pull and of a push instead. Each finding says which method it used.
func checkPermissions(ctx context.Context, env Env, arn string, o Options, registryID string) []Finding {
	repoARN := fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", o.Region, registryID, o.Repository)
	why := "IAM SimulatePrincipalPolicy not available"
	if env.IAM != nil {
		repoPolicy, note := repositoryPolicy(ctx, env, registryID, o.Repository)
		results, err := simulate(ctx, env.IAM, principalARN(arn), repoARN, repoPolicy)
		if err == nil {
			method := "IAM's policy simulator" + note
			return []Finding{
				simulated("pull", pullActions, results, arn, repoARN, o, method),
				simulated("push", pushActions, results, arn, repoARN, o, method),
			}
		}
		why = "IAM's policy simulator did not answer: " + shortError(err)
		if isCode(err, "AccessDenied", "AccessDeniedException") {
			why = "this identity may not call iam:SimulatePrincipalPolicy"
		}
	}
	var out []Finding
	_, err := env.ECR.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId: aws.String(registryID), RepositoryName: aws.String(o.Repository),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("berth-doctor-probe")}},
	})
	out = append(out, probed("pull", "ecr:BatchGetImage", err, arn, repoARN, why))
	_, err = env.ECR.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{
		RegistryId: aws.String(registryID), RepositoryName: aws.String(o.Repository),
	})
	f := probed("push", "ecr:InitiateLayerUpload", err, arn, repoARN, why)
	if f.Status == OK {
		f.Detail += " (the probe's upload is never completed and expires)"
	}
	return append(out, f)
}

// repositoryPolicy is the repository's policy text, "" when it has none
// or the identity may not read it; note says so for the findings.
func repositoryPolicy(ctx context.Context, env Env, registryID, repo string) (text, note string) {
	out, err := env.ECR.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RegistryId: aws.String(registryID), RepositoryName: aws.String(repo)})
	switch {
	case err == nil:
		return aws.ToString(out.PolicyText), ", with the repository policy"
	case isCode(err, "RepositoryPolicyNotFoundException"):
		return "", ""
	}
	return "", ", without the repository policy (ecr get-repository-policy: " + shortError(err) + ")"
}

// simulate asks the simulator for every action docker needs. Amazon's
// simulator wants a user as the caller of a resource policy; for a role
// it refuses the policy (InvalidInput), and is asked again without it.
func simulate(ctx context.Context, client IAM, source, repoARN, repoPolicy string) ([]iamtypes.EvaluationResult, error) {
	in := &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(source),
		ActionNames:     append(append([]string{}, pullActions...), pushActions...),
		ResourceArns:    []string{repoARN},
	}
	if repoPolicy != "" {
		in.ResourcePolicy = aws.String(repoPolicy)
	}
	var results []iamtypes.EvaluationResult
	for {
		out, err := client.SimulatePrincipalPolicy(ctx, in)
		if err != nil && repoPolicy != "" && in.ResourcePolicy != nil && isCode(err, "InvalidInput") {
			in.ResourcePolicy, in.Marker, results = nil, nil, nil
			continue
		}
		if err != nil {
			return nil, err
		}
		results = append(results, out.EvaluationResults...)
		if !out.IsTruncated || out.Marker == nil {
			return results, nil
		}
		in.Marker = out.Marker
	}
}

func simulated(what string, actions []string, results []iamtypes.EvaluationResult, arn, repoARN string, o Options, method string) Finding {
	for _, a := range actions {
		for _, r := range results {
			if aws.ToString(r.EvalActionName) != a || r.EvalDecision == iamtypes.PolicyEvaluationDecisionTypeAllowed {
				continue
			}
			detail := fmt.Sprintf("%s is not authorized to perform: %s on resource: %s", arn, a, repoARN)
			fix := policyFix(arn, a)
			if r.EvalDecision == iamtypes.PolicyEvaluationDecisionTypeExplicitDeny {
				by, byFix := denyingPolicy(r.MatchedStatements, arn, a, o)
				detail += " with an explicit deny in " + by
				fix = byFix
			}
			return Finding{Check: what, Status: Fail, Detail: detail + " (" + method + ")", Fix: fix}
		}
	}
	return Finding{Check: what, Status: OK, Detail: fmt.Sprintf("%s allowed on %s (%s)", strings.Join(actions, ", "), repoARN, method)}
}

// denyingPolicy names the policy whose statement denies, and the command
// that shows it for an administrator to remove the statement: no single
// command can lift a deny without knowing what else the policy says.
func denyingPolicy(statements []iamtypes.Statement, arn, action string, o Options) (by, fix string) {
	prof := ""
	if o.Profile != "" {
		prof = " --profile " + o.Profile
	}
	for _, st := range statements {
		id, where := aws.ToString(st.SourcePolicyId), ""
		switch {
		case st.StartPosition == nil || st.EndPosition == nil:
		case st.StartPosition.Line == st.EndPosition.Line:
			where = fmt.Sprintf(" (line %d)", st.StartPosition.Line)
		default:
			where = fmt.Sprintf(" (lines %d-%d)", st.StartPosition.Line, st.EndPosition.Line)
		}
		_, name := principalName(arn)
		switch st.SourcePolicyType {
		case iamtypes.PolicySourceTypeResource:
			return "the repository policy" + where, fmt.Sprintf(
				"aws ecr get-repository-policy --repository-name %s%s   # then remove the statement%s that denies %s and put it back with aws ecr set-repository-policy",
				o.Repository, prof, where, action)
		case iamtypes.PolicySourceTypeUser, iamtypes.PolicySourceTypeGroup, iamtypes.PolicySourceTypeRole:
			kind := string(st.SourcePolicyType)
			owner := name
			if kind == "group" {
				owner = "<group>"
			}
			return fmt.Sprintf("the %s policy %s%s", kind, id, where), fmt.Sprintf(
				"aws iam get-%s-policy --%s-name %s --policy-name %s   # as an administrator; then remove the statement that denies %s",
				kind, kind, owner, id, action)
		case iamtypes.PolicySourceTypeAwsManaged, iamtypes.PolicySourceTypeUserManaged:
			return "the managed policy " + id + where, fmt.Sprintf("detach the managed policy %s from %s, or change it   # as an administrator", id, arn)
		}
	}
	return "an identity-based policy", fmt.Sprintf("find the policy that denies %s to %s   # as an administrator", action, arn)
}

func probed(what, action string, err error, arn, repoARN, why string) Finding {
	method := fmt.Sprintf("tried %s; %s", action, why)
	switch {
	case err == nil, isCode(err, "ImageNotFoundException", "LayersNotFoundException"):
		return Finding{Check: what, Status: OK, Detail: fmt.Sprintf("%s is allowed on %s (%s)", action, repoARN, method)}
	case isCode(err, "AccessDeniedException"):
		return Finding{Check: what, Status: Fail,
			Detail: fmt.Sprintf("%s is not authorized to perform: %s on resource: %s (%s)", arn, action, repoARN, method),
			Fix:    policyFix(arn, action)}
	}
	return Finding{Check: what, Status: Warn, Detail: fmt.Sprintf("could not tell (%s): %v", method, err)}
}

// shortError is an API error's code and message, without the SDK's
// operation and request-id preamble.
func shortError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// policyFix is the command an administrator runs to allow what docker
// needs: AWS's managed ECR policy for the user or role.
func policyFix(arn, action string) string {
	policy := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	if action == "ecr:BatchGetImage" || action == "ecr:GetDownloadUrlForLayer" || action == "ecr:BatchCheckLayerAvailability" {
		policy = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	}
	kind, name := principalName(arn)
	switch kind {
	case "user":
		return fmt.Sprintf("aws iam attach-user-policy --user-name %s --policy-arn %s   # as an administrator", name, policy)
	case "role":
		return fmt.Sprintf("aws iam attach-role-policy --role-name %s --policy-arn %s   # as an administrator", name, policy)
	}
	return fmt.Sprintf("allow %s to %s with a policy (e.g. %s), or a repository policy   # as an administrator", arn, action, policy)
}

// principalARN is the IAM principal behind an STS ARN: an assumed role's
// session becomes its role.
func principalARN(arn string) string {
	kind, name := principalName(arn)
	if kind == "role" {
		parts := strings.SplitN(arn, ":", 6)
		return fmt.Sprintf("arn:aws:iam::%s:role/%s", parts[4], name)
	}
	return arn
}

func principalName(arn string) (kind, name string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	res := strings.Split(parts[5], "/")
	switch {
	case res[0] == "user" && len(res) >= 2:
		return "user", res[len(res)-1]
	case res[0] == "assumed-role" && len(res) >= 2:
		return "role", res[1]
	case res[0] == "role" && len(res) >= 2:
		return "role", res[len(res)-1]
	}
	return "", ""
}

// TokenExpiry reads when an ECR login password expires: Berth's
// ("berth1.<claims>.<mac>") and Amazon's (base64 JSON with "expiration").
func TokenExpiry(password string) (time.Time, bool) {
	if rest, ok := strings.CutPrefix(password, "berth1."); ok {
		body, _, _ := strings.Cut(rest, ".")
		raw, err := base64.RawURLEncoding.DecodeString(body)
		var c struct {
			E int64 `json:"e"`
		}
		if err != nil || json.Unmarshal(raw, &c) != nil || c.E == 0 {
			return time.Time{}, false
		}
		return time.Unix(c.E, 0).UTC(), true
	}
	raw, err := base64.StdEncoding.DecodeString(password)
	var c struct {
		Expiration int64 `json:"expiration"`
	}
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Expiration == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.Expiration, 0).UTC(), true
}
