package ssoapi

import (
	"context"
	"strings"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/sso"
)

// Identity Store: users, authorized as identitystore:<Operation> on the
// identity store (arn:aws:identitystore::<account>:identitystore/<id>)
// and, for one user, the user (arn:aws:identitystore:::user/<id>).

type userIn struct {
	IdentityStoreID string `json:"IdentityStoreId"`
	UserID          string `json:"UserId"`
}

// resources are the store's and the user's; the store's account is not
// known from the input, so the ARN names the store alone ("::" account
// left to the check's Account).
func (in *userIn) resources() []string {
	return []string{"arn:aws:identitystore:::identitystore/" + in.IdentityStoreID, "arn:aws:identitystore:::user/" + in.UserID}
}

type email struct {
	Value   string `json:"Value,omitempty"`
	Type    string `json:"Type,omitempty"`
	Primary bool   `json:"Primary,omitempty"`
}

type name struct {
	Formatted  string `json:"Formatted,omitempty"`
	FamilyName string `json:"FamilyName,omitempty"`
	GivenName  string `json:"GivenName,omitempty"`
}

type createUserIn struct {
	IdentityStoreID string  `json:"IdentityStoreId"`
	UserName        string  `json:"UserName"`
	DisplayName     string  `json:"DisplayName"`
	Name            name    `json:"Name"`
	Emails          []email `json:"Emails"`
}

func (in *createUserIn) resources() []string {
	return []string{"arn:aws:identitystore:::identitystore/" + in.IdentityStoreID}
}

func (a *API) createUser(ctx context.Context, _ *awsapi.Call, in *createUserIn) (any, error) {
	if in.UserName == "" {
		// The model leaves UserName optional (SCIM-provisioned users); a
		// user who signs in to Berth needs one.
		return nil, awsapi.Errorf("ValidationException", "UserName is required: Berth's users sign in with it")
	}
	nu := sso.NewUser{IdentityStoreID: in.IdentityStoreID, UserName: in.UserName, DisplayName: in.DisplayName,
		GivenName: in.Name.GivenName, FamilyName: in.Name.FamilyName}
	for _, e := range in.Emails {
		nu.Emails = append(nu.Emails, meta.SSOEmail(e))
	}
	u, err := a.sso.CreateUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	return map[string]any{"IdentityStoreId": u.IdentityStoreID, "UserId": u.UserID}, nil
}

type userOut struct {
	IdentityStoreID string            `json:"IdentityStoreId"`
	UserID          string            `json:"UserId"`
	UserName        string            `json:"UserName"`
	DisplayName     string            `json:"DisplayName,omitempty"`
	Name            *name             `json:"Name,omitempty"`
	Emails          []email           `json:"Emails,omitempty"`
	UserStatus      string            `json:"UserStatus"`
	CreatedAt       *awsapi.EpochTime `json:"CreatedAt,omitempty"`
}

func userOf(u *meta.SSOUser) userOut {
	out := userOut{IdentityStoreID: u.IdentityStoreID, UserID: u.UserID, UserName: u.UserName, DisplayName: u.DisplayName,
		UserStatus: "ENABLED", CreatedAt: awsapi.NewEpochTime(u.CreatedAt)}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &name{GivenName: u.GivenName, FamilyName: u.FamilyName, Formatted: strings.TrimSpace(u.GivenName + " " + u.FamilyName)}
	}
	for _, e := range u.Emails {
		out.Emails = append(out.Emails, email(e))
	}
	return out
}

func (a *API) describeUser(ctx context.Context, _ *awsapi.Call, in *userIn) (any, error) {
	u, err := a.sso.User(ctx, in.IdentityStoreID, in.UserID)
	if err != nil {
		return nil, err
	}
	return userOf(u), nil
}

type listUsersIn struct {
	paging
	IdentityStoreID string `json:"IdentityStoreId"`
	Filters         []struct {
		AttributePath  string `json:"AttributePath"`
		AttributeValue string `json:"AttributeValue"`
	} `json:"Filters"`
}

func (in *listUsersIn) resources() []string {
	return []string{"arn:aws:identitystore:::identitystore/" + in.IdentityStoreID}
}

func (a *API) listUsers(ctx context.Context, _ *awsapi.Call, in *listUsersIn) (any, error) {
	userName := ""
	for _, f := range in.Filters {
		if f.AttributePath != "UserName" {
			return nil, awsapi.Errorf("ValidationException", "Berth filters users by UserName only")
		}
		userName = f.AttributeValue
	}
	list, err := a.sso.Users(ctx, in.IdentityStoreID, userName)
	if err != nil {
		return nil, err
	}
	list, next, ok := page(list, func(u *meta.SSOUser) string { return strings.ToLower(u.UserName) }, in.MaxResults, in.NextToken)
	if !ok {
		return nil, badToken()
	}
	out := []userOut{}
	for _, u := range list {
		out = append(out, userOf(u))
	}
	return withNext(map[string]any{"Users": out}, next), nil
}

func (a *API) deleteUser(ctx context.Context, _ *awsapi.Call, in *userIn) (any, error) {
	return nil, a.sso.DeleteUser(ctx, in.IdentityStoreID, in.UserID)
}
