// Package ecrpublicapi answers Amazon ECR Public's API
// (SpencerFrontendService) over the AWS front door. It serves no operation
// yet: every one answers UnsupportedOperationException naming it, so that
// `aws ecr-public` users learn what is missing rather than meeting an
// unknown target.
package ecrpublicapi

import "github.com/berth-registry/berth/internal/awsapi"

// Service is ECR Public's description for the front door.
func Service() *awsapi.Service {
	return &awsapi.Service{
		Name:         "ECR Public",
		Model:        "ecr-public",
		ActionPrefix: "ecr-public",
		FaultCode:    "ServerException",
		NotServed:    notServed,
	}
}

// notServed are ECR Public's operations Berth does not serve yet: all of
// them.
var notServed = []string{
	"BatchCheckLayerAvailability",
	"BatchDeleteImage",
	"CompleteLayerUpload",
	"CreateRepository",
	"DeleteRepository",
	"DeleteRepositoryPolicy",
	"DescribeImageTags",
	"DescribeImages",
	"DescribeRegistries",
	"DescribeRepositories",
	"GetAuthorizationToken",
	"GetRegistryCatalogData",
	"GetRepositoryCatalogData",
	"GetRepositoryPolicy",
	"InitiateLayerUpload",
	"ListTagsForResource",
	"PutImage",
	"PutRegistryCatalogData",
	"PutRepositoryCatalogData",
	"SetRepositoryPolicy",
	"TagResource",
	"UntagResource",
	"UploadLayerPart",
}
