package awsapi

import (
	"encoding/xml"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
)

func init() {
	registerIAM("CreateGroup", createGroup)
	registerIAM("GetGroup", getGroup)
	registerIAM("ListGroups", listGroups)
	registerIAM("DeleteGroup", deleteGroup)
	registerIAM("AddUserToGroup", addUserToGroup)
	registerIAM("RemoveUserFromGroup", removeUserFromGroup)
	registerIAM("ListGroupsForUser", listGroupsForUser)
}

type iamGroupXML struct {
	Path       string   `xml:"Path"`
	GroupName  string   `xml:"GroupName"`
	GroupID    string   `xml:"GroupId"`
	Arn        string   `xml:"Arn"`
	CreateDate *xmlTime `xml:"CreateDate,omitempty"`
}

func groupXML(g *meta.IAMEntity) iamGroupXML {
	return iamGroupXML{Path: g.Path, GroupName: g.Name, GroupID: g.ID,
		Arn: "arn:aws:iam::" + g.Account + ":group" + g.Path + g.Name, CreateDate: newXMLTime(g.CreatedAt)}
}

func createGroup(c *iamCall) (any, error) {
	name, path := c.str("GroupName"), c.path()
	if err := c.authorize(c.iamARN("group", path, name)); err != nil {
		return nil, err
	}
	g := &meta.IAMEntity{Account: c.p.Account, Kind: meta.IAMGroup, Name: name, Path: path,
		ID: authn.NewID("AGPA", 17), CreatedAt: c.s.opts.Now().UTC().Truncate(timeResolution)}
	if err := c.db.CreateIAMEntity(c.ctx, g); err != nil {
		return nil, err
	}
	return struct {
		XMLName xml.Name    `xml:"CreateGroupResult"`
		Group   iamGroupXML `xml:"Group"`
	}{Group: groupXML(g)}, nil
}

// getGroup describes a group and its members; the members come in one page
// (IAM's quota of 10 groups per user keeps groups small).
func getGroup(c *iamCall) (any, error) {
	name := c.str("GroupName")
	if err := c.authorize(c.entityARN(meta.IAMGroup, name)); err != nil {
		return nil, err
	}
	g, err := c.db.GetIAMEntity(c.ctx, c.p.Account, meta.IAMGroup, name)
	if err != nil {
		return nil, err
	}
	users, err := c.db.ListGroupMembers(c.ctx, c.p.Account, name)
	if err != nil {
		return nil, err
	}
	out := struct {
		XMLName     xml.Name            `xml:"GetGroupResult"`
		Group       iamGroupXML         `xml:"Group"`
		Users       members[iamUserXML] `xml:"Users"`
		IsTruncated bool                `xml:"IsTruncated"`
	}{Group: groupXML(g)}
	for _, u := range users {
		out.Users.Member = append(out.Users.Member, userXML(u))
	}
	return out, nil
}

func listGroups(c *iamCall) (any, error) {
	if err := c.authorize(c.iamARN("group", "/", "")); err != nil {
		return nil, err
	}
	q := c.page()
	groups, err := c.db.ListIAMEntities(c.ctx, c.p.Account, meta.IAMGroup, fetchQuery(q))
	if err != nil {
		return nil, err
	}
	keep, truncated, marker := pageOf(len(groups), q.Limit, func(i int) string { return groups[i].Name })
	return groupList("ListGroupsResult", groups[:keep], truncated, marker), nil
}

type groupListXML struct {
	XMLName     xml.Name
	Groups      members[iamGroupXML] `xml:"Groups"`
	IsTruncated bool                 `xml:"IsTruncated"`
	Marker      string               `xml:"Marker,omitempty"`
}

func groupList(element string, groups []*meta.IAMEntity, truncated bool, marker string) groupListXML {
	out := groupListXML{XMLName: xml.Name{Local: element}, IsTruncated: truncated, Marker: marker}
	for _, g := range groups {
		out.Groups.Member = append(out.Groups.Member, groupXML(g))
	}
	return out
}

func deleteGroup(c *iamCall) (any, error) {
	name := c.str("GroupName")
	if err := c.authorize(c.entityARN(meta.IAMGroup, name)); err != nil {
		return nil, err
	}
	return nil, c.db.DeleteIAMEntity(c.ctx, c.p.Account, meta.IAMGroup, name)
}

func addUserToGroup(c *iamCall) (any, error) {
	group := c.str("GroupName")
	if err := c.authorize(c.entityARN(meta.IAMGroup, group)); err != nil {
		return nil, err
	}
	return nil, c.db.AddGroupMember(c.ctx, c.p.Account, group, c.str("UserName"))
}

func removeUserFromGroup(c *iamCall) (any, error) {
	group, user := c.str("GroupName"), c.str("UserName")
	if err := c.authorize(c.entityARN(meta.IAMGroup, group)); err != nil {
		return nil, err
	}
	err := c.db.RemoveGroupMember(c.ctx, c.p.Account, group, user)
	var ie *meta.IAMError
	if errors.As(err, &ie) && ie.What == meta.IAMWhatMembership {
		// IAM's wording for this case is not on record; this is Berth's.
		return nil, noSuchEntity(fmt.Sprintf("The user with name %s is not a member of the group %s.", user, group))
	}
	return nil, err
}

func listGroupsForUser(c *iamCall) (any, error) {
	user := c.str("UserName")
	if err := c.authorize(c.entityARN(meta.IAMUser, user)); err != nil {
		return nil, err
	}
	groups, err := c.db.ListUserGroups(c.ctx, c.p.Account, user)
	if err != nil {
		return nil, err
	}
	return groupList("ListGroupsForUserResult", groups, false, ""), nil
}
