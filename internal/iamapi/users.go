package iamapi

import (
	"context"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// userIn is what the user and access-key operations take.
type userIn struct {
	UserName    string `json:"UserName"`
	Path        string `json:"Path"`
	AccessKeyID string `json:"AccessKeyId"`
	Status      string `json:"Status"`
}

// newUser checks CreateUser on the ARN the user will have.
func newUser(_ context.Context, c *awsapi.Call, in *userIn) ([]awsapi.Check, error) {
	return on(c.Principal.Account, iam.ARN(c.Principal.Account, "user", in.Path, in.UserName)), nil
}

// onUser checks the operation on the user the input addresses: UserName,
// or without one the caller (a user, or its account's root). It fills
// UserName in with that user ("" for the root), so that the operation acts
// on what was authorized.
func (a *API) onUser(ctx context.Context, c *awsapi.Call, in *userIn) ([]awsapi.Check, error) {
	user, err := iam.AddressedUser(c.Principal, in.UserName)
	if err != nil {
		return nil, err
	}
	in.UserName = user
	if user == "" {
		return on(c.Principal.Account, authn.RootARN(c.Principal.Account)), nil
	}
	return a.onEntity(ctx, c, iam.User, user), nil
}

type userXML struct {
	Path       string          `xml:"Path,omitempty"`
	UserName   string          `xml:"UserName,omitempty"`
	UserID     string          `xml:"UserId"`
	Arn        string          `xml:"Arn"`
	CreateDate *awsapi.XMLTime `xml:"CreateDate,omitempty"`
}

func userOf(u *iam.Entity) userXML {
	return userXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: iam.EntityARN(u), CreateDate: awsapi.NewXMLTime(u.CreatedAt)}
}

type userOut struct {
	User userXML `xml:"User"`
}

func (a *API) createUser(ctx context.Context, c *awsapi.Call, in *userIn) (*userOut, error) {
	u, err := a.iam.CreateUser(ctx, c.Principal.Account, in.UserName, in.Path)
	if err != nil {
		return nil, err
	}
	return &userOut{userOf(u)}, nil
}

// getUser describes the user onUser found: UserName, the caller, or the
// root (which has no name or path, as in IAM).
func (a *API) getUser(ctx context.Context, c *awsapi.Call, in *userIn) (*userOut, error) {
	account := c.Principal.Account
	if in.UserName == "" {
		root := userXML{UserID: account, Arn: authn.RootARN(account)}
		if acct, err := a.iam.Account(ctx, account); err == nil {
			root.CreateDate = awsapi.NewXMLTime(acct.CreatedAt)
		}
		return &userOut{root}, nil
	}
	u, err := a.iam.Entity(ctx, account, iam.User, in.UserName)
	if err != nil {
		return nil, err
	}
	return &userOut{userOf(u)}, nil
}

type usersOut struct {
	Users awsapi.XMLList[userXML] `xml:"Users"`
	truncation
}

func (a *API) listUsers(ctx context.Context, c *awsapi.Call, in *listIn) (*usersOut, error) {
	page, err := a.iam.Entities(ctx, c.Principal.Account, iam.User, in.query())
	if err != nil {
		return nil, err
	}
	return &usersOut{Users: members(page.Items, userOf), truncation: truncationOf(page)}, nil
}

// deleteUser refuses while the user has keys, policies or groups, as IAM
// does.
func (a *API) deleteUser(ctx context.Context, c *awsapi.Call, in *userIn) (none, error) {
	return none{}, a.iam.DeleteEntity(ctx, c.Principal.Account, iam.User, in.UserName)
}

// The access-key operations act on UserName's keys, or without one on the
// caller's own: a user's, or its account root's.

type accessKeyXML struct {
	UserName        string          `xml:"UserName,omitempty"`
	AccessKeyID     string          `xml:"AccessKeyId"`
	Status          string          `xml:"Status"`
	SecretAccessKey string          `xml:"SecretAccessKey,omitempty"`
	CreateDate      *awsapi.XMLTime `xml:"CreateDate,omitempty"`
}

func accessKeyOf(k *iam.AccessKey) accessKeyXML {
	return accessKeyXML{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: awsapi.NewXMLTime(k.CreatedAt)}
}

type accessKeyOut struct {
	AccessKey accessKeyXML `xml:"AccessKey"`
}

func (a *API) createAccessKey(ctx context.Context, c *awsapi.Call, in *userIn) (*accessKeyOut, error) {
	k, err := a.iam.CreateAccessKey(ctx, c.Principal.Account, in.UserName)
	if err != nil {
		return nil, err
	}
	out := accessKeyOf(k)
	out.SecretAccessKey = k.SecretAccessKey // shown this once
	return &accessKeyOut{out}, nil
}

type accessKeysOut struct {
	AccessKeyMetadata awsapi.XMLList[accessKeyXML] `xml:"AccessKeyMetadata"`
	IsTruncated       bool                         `xml:"IsTruncated"`
}

func (a *API) listAccessKeys(ctx context.Context, c *awsapi.Call, in *userIn) (*accessKeysOut, error) {
	keys, err := a.iam.AccessKeys(ctx, c.Principal.Account, in.UserName)
	if err != nil {
		return nil, err
	}
	return &accessKeysOut{AccessKeyMetadata: members(keys, accessKeyOf)}, nil
}

func (a *API) updateAccessKey(ctx context.Context, c *awsapi.Call, in *userIn) (none, error) {
	return none{}, a.iam.UpdateAccessKey(ctx, c.Principal.Account, in.UserName, in.AccessKeyID, in.Status)
}

func (a *API) deleteAccessKey(ctx context.Context, c *awsapi.Call, in *userIn) (none, error) {
	return none{}, a.iam.DeleteAccessKey(ctx, c.Principal.Account, in.UserName, in.AccessKeyID)
}

// listGroupsForUser answers in one page: a user is in at most 10 groups.
func (a *API) listGroupsForUser(ctx context.Context, c *awsapi.Call, in *userIn) (*groupsOut, error) {
	groups, err := a.iam.GroupsForUser(ctx, c.Principal.Account, in.UserName)
	if err != nil {
		return nil, err
	}
	return groupsOf(iam.Page[*iam.Entity]{Items: groups}), nil
}
