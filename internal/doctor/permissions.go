package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The actions docker needs, in the order a pull and a push use them.
var (
	pullActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
	pushActions = []string{"ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"}
)

// checkPermissions asks IAM's policy simulator, and where the endpoint
// does not answer it, tries the first call of a pull and of a push.
func checkPermissions(ctx context.Context, env Env, arn string, o Options, registryID string) []Finding {
	repoARN := fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", o.Region, registryID, o.Repository)
	if env.IAM != nil {
		sim, err := env.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String(principalARN(arn)),
			ActionNames:     append(append([]string{}, pullActions...), pushActions...),
			ResourceArns:    []string{repoARN},
		})
		if err == nil {
			denied := map[string]bool{}
			for _, r := range sim.EvaluationResults {
				if r.EvalDecision != "allowed" {
					denied[aws.ToString(r.EvalActionName)] = true
				}
			}
			return []Finding{
				simulated("pull", pullActions, denied, arn, repoARN),
				simulated("push", pushActions, denied, arn, repoARN),
			}
		}
		// Otherwise probe: the simulator is optional (Berth does not serve
		// it yet) and the identity may not be allowed to call it.
	}
	var out []Finding
	_, err := env.ECR.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId: aws.String(registryID), RepositoryName: aws.String(o.Repository),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("berth-doctor-probe")}},
	})
	out = append(out, probed("pull", "ecr:BatchGetImage", err, arn, repoARN))
	_, err = env.ECR.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{
		RegistryId: aws.String(registryID), RepositoryName: aws.String(o.Repository),
	})
	f := probed("push", "ecr:InitiateLayerUpload", err, arn, repoARN)
	if f.Status == OK {
		f.Detail += " (the probe's upload is never completed and expires)"
	}
	return append(out, f)
}

func simulated(what string, actions []string, denied map[string]bool, arn, repoARN string) Finding {
	var no []string
	for _, a := range actions {
		if denied[a] {
			no = append(no, a)
		}
	}
	if len(no) == 0 {
		return Finding{Check: what, Status: OK, Detail: fmt.Sprintf("IAM's policy simulator allows %s on %s", strings.Join(actions, ", "), repoARN)}
	}
	return Finding{Check: what, Status: Fail,
		Detail: fmt.Sprintf("%s is not authorized to perform: %s on resource: %s (IAM's policy simulator)", arn, no[0], repoARN),
		Fix:    policyFix(arn, no[0])}
}

func probed(what, action string, err error, arn, repoARN string) Finding {
	method := fmt.Sprintf("tried %s; IAM SimulatePrincipalPolicy not available", action)
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
