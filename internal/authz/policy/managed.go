package policy

import "strings"

// Managed is an AWS managed policy Berth knows by heart.
type Managed struct {
	Name   string
	ARN    string
	Policy *Policy
}

// The ECR managed policies, as the AWS Managed Policy Reference and the ECR
// User Guide ("AWS managed policies for Amazon Elastic Container
// Registry", docs.aws.amazon.com/AmazonECR/latest/userguide/security-iam-awsmanpol.html)
// publish them: FullAccess as in that guide (with the
// iam:CreateServiceLinkedRole statement for replication), PowerUser v3 and
// ReadOnly v3 (edited December 10, 2019), PullOnly v1 (created October 4,
// 2024).
var managed = []Managed{
	{
		Name: "AmazonEC2ContainerRegistryFullAccess",
		Policy: MustParse(Identity, `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ecr:*", "cloudtrail:LookupEvents"],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": ["iam:CreateServiceLinkedRole"],
      "Resource": "*",
      "Condition": {
        "StringEquals": {"iam:AWSServiceName": ["replication.ecr.amazonaws.com"]}
      }
    }
  ]
}`),
	},
	{
		Name: "AmazonEC2ContainerRegistryPowerUser",
		Policy: MustParse(Identity, `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetRepositoryPolicy",
        "ecr:DescribeRepositories",
        "ecr:ListImages",
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "ecr:GetLifecyclePolicy",
        "ecr:GetLifecyclePolicyPreview",
        "ecr:ListTagsForResource",
        "ecr:DescribeImageScanFindings",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage"
      ],
      "Resource": "*"
    }
  ]
}`),
	},
	{
		Name: "AmazonEC2ContainerRegistryReadOnly",
		Policy: MustParse(Identity, `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetRepositoryPolicy",
        "ecr:DescribeRepositories",
        "ecr:ListImages",
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "ecr:GetLifecyclePolicy",
        "ecr:GetLifecyclePolicyPreview",
        "ecr:ListTagsForResource",
        "ecr:DescribeImageScanFindings"
      ],
      "Resource": "*"
    }
  ]
}`),
	},
	{
		Name: "AmazonEC2ContainerRegistryPullOnly",
		Policy: MustParse(Identity, `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchImportUpstreamImage"
      ],
      "Resource": "*"
    }
  ]
}`),
	},
}

func init() {
	for i := range managed {
		managed[i].ARN = "arn:aws:iam::aws:policy/" + managed[i].Name
	}
}

// ManagedPolicies lists the built-in AWS managed policies.
func ManagedPolicies() []Managed {
	return append([]Managed(nil), managed...)
}

// LookupManaged finds a built-in managed policy by name or ARN.
func LookupManaged(nameOrARN string) (Managed, bool) {
	name := strings.TrimPrefix(nameOrARN, "arn:aws:iam::aws:policy/")
	for _, m := range managed {
		if m.Name == name {
			return m, true
		}
	}
	return Managed{}, false
}
