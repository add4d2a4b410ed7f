package policy

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PrincipalType is the kind of identity making a request.
type PrincipalType uint8

const (
	// Anonymous is an unauthenticated caller; only Principal "*" names it.
	Anonymous PrincipalType = iota
	// Root is an account's root user. It needs no identity-based policy.
	Root
	// User is an IAM user.
	User
	// AssumedRole is a role session (arn:aws:sts::<account>:assumed-role/<role>/<session>).
	AssumedRole
	// FederatedUser is a GetFederationToken session.
	FederatedUser
	// Service is an AWS service principal such as replication.ecr.amazonaws.com.
	Service
)

// String is the value of aws:PrincipalType ("" where IAM leaves it out).
func (t PrincipalType) String() string {
	switch t {
	case Anonymous:
		return "Anonymous"
	case Root:
		return "Account"
	case User:
		return "User"
	case AssumedRole:
		return "AssumedRole"
	case FederatedUser:
		return "FederatedUser"
	}
	return ""
}

// Principal is who is asking.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN as denials name it: arn:aws:iam::<account>:root,
	// …:user/<path><name>, arn:aws:sts::<account>:assumed-role/<role>/<session>;
	// for a Service principal, the service name.
	ARN     string
	Account string
	// UserID is aws:userid: AIDA… for a user, AROA…:<session> for a role
	// session; the account ID for root when left empty.
	UserID string
	// RoleARN is the role behind an AssumedRole session, with its path. When
	// empty it is derived from ARN, without a path. aws:PrincipalArn is this
	// ARN, and a resource policy naming it matches the session.
	RoleARN string
}

// Feature is the ECR feature a request is made for, when it is made on
// behalf of one. Only such requests consult the registry policy.
type Feature uint8

const (
	NoFeature Feature = iota
	// Replication is cross-account replication (ecr:ReplicateImage and the
	// ecr:CreateRepository it needs).
	Replication
	// PullThroughCache is a pull through cache fetch
	// (ecr:BatchImportUpstreamImage, ecr:CreateRepository).
	PullThroughCache
)

// Request is one authorization question and the request context its
// conditions read. Condition key names are case-insensitive, values
// case-sensitive unless an operator says otherwise.
type Request struct {
	Principal Principal
	// Action is service:Action, e.g. ecr:BatchGetImage.
	Action string
	// Resource is the ARN acted on, or "*" for actions without resources
	// (ecr:GetAuthorizationToken).
	Resource string
	// ResourceAccount owns Resource; "" means the caller's own account.
	ResourceAccount string
	Feature         Feature

	// SourceIP is aws:SourceIp; absent when not valid.
	SourceIP netip.Addr
	// SecureTransport is aws:SecureTransport, always present.
	SecureTransport bool
	// Time is aws:CurrentTime and aws:EpochTime; absent when zero.
	Time time.Time
	// RequestTags are aws:RequestTag/<key>; their keys are aws:TagKeys.
	RequestTags map[string]string
	// ResourceTags are aws:ResourceTag/<key> and ecr:ResourceTag/<key>.
	ResourceTags map[string]string
	// Context holds any other key (and stands in for the ones above when
	// their field is empty).
	Context map[string][]string
}

// keyID names the context keys Request computes itself.
type keyID uint8

const (
	kOther keyID = iota
	kPrincipalArn
	kPrincipalAccount
	kPrincipalType
	kUserID
	kUsername
	kSourceIP
	kSecureTransport
	kCurrentTime
	kEpochTime
	kRequestTag
	kResourceTag
	kTagKeys
)

// ckey is a condition key or policy variable, resolved at parse time.
type ckey struct {
	name string // as written
	id   keyID
	tag  string // the <key> of a tag key
}

func compileKey(name string) (ckey, bool) {
	k := ckey{name: name}
	i := strings.IndexByte(name, ':')
	if i <= 0 || i == len(name)-1 {
		return k, false
	}
	lower := strings.ToLower(name)
	switch lower {
	case "aws:principalarn":
		k.id = kPrincipalArn
	case "aws:principalaccount":
		k.id = kPrincipalAccount
	case "aws:principaltype":
		k.id = kPrincipalType
	case "aws:userid":
		k.id = kUserID
	case "aws:username":
		k.id = kUsername
	case "aws:sourceip":
		k.id = kSourceIP
	case "aws:securetransport":
		k.id = kSecureTransport
	case "aws:currenttime":
		k.id = kCurrentTime
	case "aws:epochtime":
		k.id = kEpochTime
	case "aws:tagkeys":
		k.id = kTagKeys
	default:
		for _, p := range [...]struct {
			prefix string
			id     keyID
		}{{"aws:requesttag/", kRequestTag}, {"aws:resourcetag/", kResourceTag}, {"ecr:resourcetag/", kResourceTag}} {
			if strings.HasPrefix(lower, p.prefix) {
				if len(name) == len(p.prefix) {
					return k, false
				}
				k.id, k.tag = p.id, name[len(p.prefix):]
			}
		}
	}
	return k, true
}

// evalCtx is one Evaluate call's view of its Request.
type evalCtx struct {
	req     Request
	service string // the action's service prefix
	name    string // the action's name
	// the resource ARN split at its first five colons
	resComps [6]string
	resN     int
	// computed on first use
	tagKeys    []string
	tagKeysSet bool
	roleArn    string
	roleArnSet bool
	// rec is Explain's, nil for Evaluate.
	rec *recorder
}

// values is the request's values for key k, written into buf when there is
// only one. present is false when the request context lacks the key.
func (c *evalCtx) values(k *ckey, buf *[1]string) (vals []string, present bool) {
	r := &c.req
	one := func(s string) ([]string, bool) {
		buf[0] = s
		return buf[:], true
	}
	switch k.id {
	case kPrincipalArn:
		if s := c.principalArn(); s != "" {
			return one(s)
		}
	case kPrincipalAccount:
		if r.Principal.Account != "" && r.Principal.Type != Anonymous && r.Principal.Type != Service {
			return one(r.Principal.Account)
		}
	case kPrincipalType:
		if s := r.Principal.Type.String(); s != "" {
			return one(s)
		}
	case kUserID:
		if r.Principal.UserID != "" {
			return one(r.Principal.UserID)
		}
		if r.Principal.Type == Root && r.Principal.Account != "" {
			return one(r.Principal.Account)
		}
	case kUsername:
		if r.Principal.Type == User {
			if i := strings.LastIndexByte(r.Principal.ARN, '/'); i >= 0 && i < len(r.Principal.ARN)-1 {
				return one(r.Principal.ARN[i+1:])
			}
		}
	case kSourceIP:
		if r.SourceIP.IsValid() {
			return one(r.SourceIP.String())
		}
	case kSecureTransport:
		return one(strconv.FormatBool(r.SecureTransport))
	case kCurrentTime:
		if !r.Time.IsZero() {
			return one(r.Time.UTC().Format(time.RFC3339))
		}
	case kEpochTime:
		if !r.Time.IsZero() {
			return one(strconv.FormatInt(r.Time.Unix(), 10))
		}
	case kRequestTag:
		if v, ok := lookupTag(r.RequestTags, k.tag); ok {
			return one(v)
		}
	case kResourceTag:
		if v, ok := lookupTag(r.ResourceTags, k.tag); ok {
			return one(v)
		}
	case kTagKeys:
		if keys := c.requestTagKeys(); len(keys) > 0 {
			return keys, true
		}
	}
	return lookupContext(r.Context, k.name)
}

// value is a key's one value, for a policy variable; multivalued and
// absent keys have none.
func (c *evalCtx) value(k *ckey) (string, bool) {
	var buf [1]string
	vals, ok := c.values(k, &buf)
	if !ok || len(vals) != 1 {
		return "", false
	}
	return vals[0], true
}

func (c *evalCtx) principalArn() string {
	p := &c.req.Principal
	switch p.Type {
	case Root, User, FederatedUser:
		return p.ARN
	case AssumedRole:
		return c.roleARN()
	}
	return ""
}

// roleARN is the role behind an assumed-role session.
func (c *evalCtx) roleARN() string {
	if !c.roleArnSet {
		c.roleArnSet = true
		p := &c.req.Principal
		c.roleArn = p.RoleARN
		if c.roleArn == "" {
			if partition, account, role, ok := sessionRole(p.ARN); ok {
				c.roleArn = "arn:" + partition + ":iam::" + account + ":role/" + role
			}
		}
	}
	return c.roleArn
}

// sessionRole splits arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
func sessionRole(arn string) (partition, account, role string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "assumed-role/")
	if !found {
		return "", "", "", false
	}
	role, _, found = strings.Cut(rest, "/")
	if !found || role == "" {
		return "", "", "", false
	}
	return parts[1], parts[4], role, true
}

// roleName is the name of the role an AssumedRole principal acts as.
func (c *evalCtx) roleName() string {
	arn := c.roleARN()
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}

func (c *evalCtx) requestTagKeys() []string {
	if !c.tagKeysSet {
		c.tagKeysSet = true
		for k := range c.req.RequestTags {
			c.tagKeys = append(c.tagKeys, k)
		}
		sort.Strings(c.tagKeys)
	}
	return c.tagKeys
}

// lookupTag finds a tag by key, ignoring case as IAM does for key names.
func lookupTag(tags map[string]string, key string) (string, bool) {
	if v, ok := tags[key]; ok {
		return v, true
	}
	// Keys differing only in case: take the least, so the answer does not
	// depend on map order.
	best, val, found := "", "", false
	for k, v := range tags {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, val, found = k, v, true
		}
	}
	return val, found
}

func lookupContext(ctx map[string][]string, name string) ([]string, bool) {
	if v, ok := ctx[name]; ok {
		return v, len(v) > 0
	}
	best, found := "", false
	var val []string
	for k, v := range ctx {
		if strings.EqualFold(k, name) && (!found || k < best) {
			best, val, found = k, v, true
		}
	}
	return val, len(val) > 0
}
