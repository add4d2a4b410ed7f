package iamapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// groupIn is what the group operations take.
type groupIn struct {
	GroupName string `json:"GroupName"`
	Path      string `json:"Path"`
	UserName  string `json:"UserName"`
}

// newGroup checks CreateGroup on the ARN the group will have.
func newGroup(_ context.Context, c *awsapi.Call, in *groupIn) ([]awsapi.Check, error) {
	return on(c.Principal.Account, iam.ARN(c.Principal.Account, "group", in.Path, in.GroupName)), nil
}

// onGroup checks the operation on GroupName; adding and removing members
// are the group's actions.
func (a *API) onGroup(ctx context.Context, c *awsapi.Call, in *groupIn) ([]awsapi.Check, error) {
	return a.onEntity(ctx, c, iam.Group, in.GroupName), nil
}

type groupXML struct {
	Path       string          `xml:"Path"`
	GroupName  string          `xml:"GroupName"`
	GroupID    string          `xml:"GroupId"`
	Arn        string          `xml:"Arn"`
	CreateDate *awsapi.XMLTime `xml:"CreateDate,omitempty"`
}

func groupOf(g *iam.Entity) groupXML {
	return groupXML{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: iam.EntityARN(g), CreateDate: awsapi.NewXMLTime(g.CreatedAt)}
}

type groupOut struct {
	Group groupXML `xml:"Group"`
}

func (a *API) createGroup(ctx context.Context, c *awsapi.Call, in *groupIn) (*groupOut, error) {
	g, err := a.iam.CreateGroup(ctx, c.Principal.Account, in.GroupName, in.Path)
	if err != nil {
		return nil, err
	}
	return &groupOut{groupOf(g)}, nil
}

type groupMembersOut struct {
	Group       groupXML                `xml:"Group"`
	Users       awsapi.XMLList[userXML] `xml:"Users"`
	IsTruncated bool                    `xml:"IsTruncated"`
}

// getGroup describes a group and its members, in one page.
func (a *API) getGroup(ctx context.Context, c *awsapi.Call, in *groupIn) (*groupMembersOut, error) {
	g, users, err := a.iam.GroupMembers(ctx, c.Principal.Account, in.GroupName)
	if err != nil {
		return nil, err
	}
	return &groupMembersOut{Group: groupOf(g), Users: members(users, userOf)}, nil
}

type groupsOut struct {
	Groups awsapi.XMLList[groupXML] `xml:"Groups"`
	truncation
}

func groupsOf(page iam.Page[*iam.Entity]) *groupsOut {
	return &groupsOut{Groups: members(page.Items, groupOf), truncation: truncationOf(page)}
}

func (a *API) listGroups(ctx context.Context, c *awsapi.Call, in *listIn) (*groupsOut, error) {
	page, err := a.iam.Entities(ctx, c.Principal.Account, iam.Group, in.query())
	if err != nil {
		return nil, err
	}
	return groupsOf(page), nil
}

func (a *API) deleteGroup(ctx context.Context, c *awsapi.Call, in *groupIn) (none, error) {
	return none{}, a.iam.DeleteEntity(ctx, c.Principal.Account, iam.Group, in.GroupName)
}

func (a *API) addUserToGroup(ctx context.Context, c *awsapi.Call, in *groupIn) (none, error) {
	return none{}, a.iam.AddUserToGroup(ctx, c.Principal.Account, in.GroupName, in.UserName)
}

func (a *API) removeUserFromGroup(ctx context.Context, c *awsapi.Call, in *groupIn) (none, error) {
	return none{}, a.iam.RemoveUserFromGroup(ctx, c.Principal.Account, in.GroupName, in.UserName)
}
