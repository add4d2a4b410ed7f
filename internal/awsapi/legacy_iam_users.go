package awsapi

import (
	"encoding/xml"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
)

func init() {
	registerIAM("CreateUser", createUser)
	registerIAM("GetUser", getUser)
	registerIAM("ListUsers", listUsers)
	registerIAM("DeleteUser", deleteUser)
	registerIAM("CreateAccessKey", createAccessKey)
	registerIAM("ListAccessKeys", listAccessKeys)
	registerIAM("UpdateAccessKey", updateAccessKey)
	registerIAM("DeleteAccessKey", deleteAccessKey)
}

type iamUserXML struct {
	Path       string   `xml:"Path,omitempty"`
	UserName   string   `xml:"UserName,omitempty"`
	UserID     string   `xml:"UserId"`
	Arn        string   `xml:"Arn"`
	CreateDate *xmlTime `xml:"CreateDate,omitempty"`
}

func userXML(u *meta.IAMEntity) iamUserXML {
	return iamUserXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: authn.UserARN(u.Account, u.Path, u.Name), CreateDate: newXMLTime(u.CreatedAt)}
}

func createUser(c *iamCall) (any, error) {
	name, path := c.str("UserName"), c.path()
	if err := c.authorize(c.iamARN("user", path, name)); err != nil {
		return nil, err
	}
	u := &meta.IAMEntity{Account: c.p.Account, Kind: meta.IAMUser, Name: name, Path: path,
		ID: authn.NewID("AIDA", 17), CreatedAt: c.s.opts.Now().UTC().Truncate(timeResolution)}
	if err := c.db.CreateIAMEntity(c.ctx, u); err != nil {
		return nil, err
	}
	return struct {
		XMLName xml.Name   `xml:"CreateUserResult"`
		User    iamUserXML `xml:"User"`
	}{User: userXML(u)}, nil
}

// getUser describes UserName, or without one the caller: a user, or the
// root (which has no name or path, as in IAM).
func getUser(c *iamCall) (any, error) {
	type result struct {
		XMLName xml.Name   `xml:"GetUserResult"`
		User    iamUserXML `xml:"User"`
	}
	name := c.str("UserName")
	if name == "" {
		switch c.p.Kind {
		case authn.KindAssumedRole:
			return nil, nonUserCredentials
		case authn.KindUser:
			name = c.p.UserName
		default:
			if err := c.authorize(c.p.ARN); err != nil {
				return nil, err
			}
			root := iamUserXML{UserID: c.p.Account, Arn: authn.RootARN(c.p.Account)}
			if a, err := c.db.GetAccount(c.ctx, c.p.Account); err == nil {
				root.CreateDate = newXMLTime(a.CreatedAt)
			}
			return result{User: root}, nil
		}
	}
	if err := c.authorize(c.entityARN(meta.IAMUser, name)); err != nil {
		return nil, err
	}
	u, err := c.db.GetIAMEntity(c.ctx, c.p.Account, meta.IAMUser, name)
	if err != nil {
		return nil, err
	}
	return result{User: userXML(u)}, nil
}

func listUsers(c *iamCall) (any, error) {
	if err := c.authorize(c.iamARN("user", "/", "")); err != nil {
		return nil, err
	}
	q := c.page()
	users, err := c.db.ListIAMEntities(c.ctx, c.p.Account, meta.IAMUser, fetchQuery(q))
	if err != nil {
		return nil, err
	}
	keep, truncated, marker := pageOf(len(users), q.Limit, func(i int) string { return users[i].Name })
	out := struct {
		XMLName     xml.Name            `xml:"ListUsersResult"`
		Users       members[iamUserXML] `xml:"Users"`
		IsTruncated bool                `xml:"IsTruncated"`
		Marker      string              `xml:"Marker,omitempty"`
	}{IsTruncated: truncated, Marker: marker}
	for _, u := range users[:keep] {
		out.Users.Member = append(out.Users.Member, userXML(u))
	}
	return out, nil
}

// deleteUser refuses while the user has keys, policies or groups, as IAM
// does (DeleteConflict); the store checks them in one transaction.
func deleteUser(c *iamCall) (any, error) {
	name := c.str("UserName")
	if err := c.authorize(c.entityARN(meta.IAMUser, name)); err != nil {
		return nil, err
	}
	return nil, c.db.DeleteIAMEntity(c.ctx, c.p.Account, meta.IAMUser, name)
}

type accessKeyMetadataXML struct {
	UserName    string   `xml:"UserName,omitempty"`
	AccessKeyID string   `xml:"AccessKeyId"`
	Status      string   `xml:"Status"`
	CreateDate  *xmlTime `xml:"CreateDate,omitempty"`
}

// keyOwnerARN is the resource an access-key action acts on: the user, or
// the root.
func (c *iamCall) keyOwnerARN(user string) string {
	if user == "" {
		return authn.RootARN(c.p.Account)
	}
	return c.entityARN(meta.IAMUser, user)
}

func createAccessKey(c *iamCall) (any, error) {
	user, err := c.targetUser()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.keyOwnerARN(user)); err != nil {
		return nil, err
	}
	k := &meta.IAMAccessKey{
		ID: authn.NewID("AKIA", 16), Account: c.p.Account, UserName: user,
		SecretAccessKey: authn.NewSecretAccessKey(), Status: "Active",
		CreatedAt: c.s.opts.Now().UTC().Truncate(timeResolution),
	}
	if err := c.db.CreateAccessKey(c.ctx, k); err != nil {
		return nil, err
	}
	type accessKey struct {
		UserName        string   `xml:"UserName,omitempty"`
		AccessKeyID     string   `xml:"AccessKeyId"`
		Status          string   `xml:"Status"`
		SecretAccessKey string   `xml:"SecretAccessKey"`
		CreateDate      *xmlTime `xml:"CreateDate,omitempty"`
	}
	return struct {
		XMLName   xml.Name  `xml:"CreateAccessKeyResult"`
		AccessKey accessKey `xml:"AccessKey"`
	}{AccessKey: accessKey{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, SecretAccessKey: k.SecretAccessKey, CreateDate: newXMLTime(k.CreatedAt)}}, nil
}

func listAccessKeys(c *iamCall) (any, error) {
	user, err := c.targetUser()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.keyOwnerARN(user)); err != nil {
		return nil, err
	}
	keys, err := c.db.ListAccessKeys(c.ctx, c.p.Account, user)
	if err != nil {
		return nil, err
	}
	out := struct {
		XMLName     xml.Name                      `xml:"ListAccessKeysResult"`
		Keys        members[accessKeyMetadataXML] `xml:"AccessKeyMetadata"`
		IsTruncated bool                          `xml:"IsTruncated"`
	}{}
	for _, k := range keys {
		out.Keys.Member = append(out.Keys.Member, accessKeyMetadataXML{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: newXMLTime(k.CreatedAt)})
	}
	return out, nil
}

func updateAccessKey(c *iamCall) (any, error) {
	user, err := c.targetUser()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.keyOwnerARN(user)); err != nil {
		return nil, err
	}
	status := c.str("Status")
	if status == "Expired" {
		// The model lists Expired, which IAM sets itself; a caller may only
		// switch a key on or off.
		return nil, invalidInput("Status must be Active or Inactive.")
	}
	return nil, c.db.UpdateAccessKeyStatus(c.ctx, c.p.Account, user, c.str("AccessKeyId"), status)
}

func deleteAccessKey(c *iamCall) (any, error) {
	user, err := c.targetUser()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.keyOwnerARN(user)); err != nil {
		return nil, err
	}
	return nil, c.db.DeleteAccessKey(c.ctx, c.p.Account, user, c.str("AccessKeyId"))
}
