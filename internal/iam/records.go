package iam

import "github.com/berth-registry/berth/internal/meta"

// The store's records that the domain hands to its callers, under the
// domain's names: a front door calls the domain and never imports meta.
type (
	// Kind is what a user, group or role is, and what policies attach to.
	Kind = meta.IAMKind
	// Entity is a user, group or role.
	Entity = meta.IAMEntity
	// Account is an account of the deployment other than the default one.
	Account = meta.IAMAccount
	// InlinePolicy is a policy embedded in one user, group or role.
	InlinePolicy = meta.IAMInlinePolicy
	// AccessKey is a long-term key of a user, or of an account's root.
	AccessKey = meta.IAMAccessKey
	// Session is a role session made by AssumeRole.
	Session = meta.IAMSession
)

// The kinds of entity.
const (
	User  = meta.IAMUser
	Group = meta.IAMGroup
	Role  = meta.IAMRole
)
