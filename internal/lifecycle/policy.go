// Package lifecycle is ECR's lifecycle policies as pure functions: Parse
// checks a policy text the way PutLifecyclePolicy does, and Evaluate decides
// which images a policy expires or archives. The lifecycle preview and the
// lifecycle run both call Evaluate, so a preview shows exactly what a run
// will do.
//
// The rules come from Amazon's ECR User Guide: "Lifecycle policy
// properties", "Automate the cleanup of images by using lifecycle policies"
// (How lifecycle policies work, Lifecycle policy evaluation rules), "Examples
// of lifecycle policies", "Archiving an image" and "Amazon ECR service
// quotas", and from the ECR API model (LifecyclePolicyText,
// LifecyclePolicyPreviewResult, LifecyclePolicyRuleAction).
package lifecycle

import (
	"encoding/json"
)

// Limits of a lifecycle policy.
const (
	// MaxPolicyLength is the "Lifecycle policy length" quota, in
	// characters; the API model's LifecyclePolicyText is 100..30720.
	MaxPolicyLength = 30720
	// MaxRules is the "Rules per lifecycle policy" quota.
	MaxRules = 50
	// MaxWildcards is the most '*' one tagPatternList string may hold.
	MaxWildcards = 4
	// MinArchiveDays is the fewest days an image stays in archive before a
	// lifecycle policy may expire it ("Archiving an image": "You cannot
	// configure lifecycle policies that delete images that have been in
	// archive for less than 90 days").
	MinArchiveDays = 90
	// maxInteger bounds rulePriority and countNumber. The documents say
	// only "integer"; ECR is a Java service, so we take Java's int.
	maxInteger = 1<<31 - 1
)

// TagStatus is a rule's selection.tagStatus, spelled as in the policy text.
type TagStatus string

const (
	TagStatusTagged   TagStatus = "tagged"
	TagStatusUntagged TagStatus = "untagged"
	TagStatusAny      TagStatus = "any"
)

// CountType is a rule's selection.countType, spelled as in the policy text.
type CountType string

const (
	CountImageCountMoreThan     CountType = "imageCountMoreThan"
	CountSinceImagePushed       CountType = "sinceImagePushed"
	CountSinceImagePulled       CountType = "sinceImagePulled"
	CountSinceImageTransitioned CountType = "sinceImageTransitioned"
)

// isSince reports whether the count type is an age in days.
func (c CountType) isSince() bool {
	return c == CountSinceImagePushed || c == CountSinceImagePulled || c == CountSinceImageTransitioned
}

// CountUnitDays is the only countUnit ECR accepts.
const CountUnitDays = "days"

// StorageClass is an image storage class, spelled as the API spells it
// (LifecyclePolicyStorageClass: STANDARD, ARCHIVE). Policy text spells the
// same classes in lower case.
type StorageClass string

const (
	Standard StorageClass = "STANDARD"
	Archive  StorageClass = "ARCHIVE"
)

// ActionType is what a rule does to the images it selects, spelled as the
// API spells it (ImageActionType: EXPIRE, TRANSITION). Policy text spells it
// in lower case.
type ActionType string

const (
	ActionExpire     ActionType = "EXPIRE"
	ActionTransition ActionType = "TRANSITION"
)

// Action is a rule's action and, in a Result, what happens to an image:
// the API's LifecyclePolicyRuleAction.
type Action struct {
	Type ActionType
	// TargetStorageClass is set only for ActionTransition, and is Archive.
	TargetStorageClass StorageClass
}

// Policy is a parsed lifecycle policy. Rules keep the order of the policy
// text; Evaluate applies them by Priority.
type Policy struct {
	Rules []Rule
}

// Rule is one rule of a policy. A nil list is an absent one; the zero
// StorageClass is an absent selection.storageClass, which selects Standard.
type Rule struct {
	Priority       int
	Description    string
	TagStatus      TagStatus
	TagPrefixList  []string
	TagPatternList []string
	StorageClass   StorageClass
	CountType      CountType
	CountUnit      string
	CountNumber    int
	Action         Action
}

// selects is the storage class the rule selects: "If you omit this, the
// value of standard will be used."
func (r *Rule) selects() StorageClass {
	if r.StorageClass == "" {
		return Standard
	}
	return r.StorageClass
}

// The policy text's spellings of the API's enums.
var (
	storageClassText = map[StorageClass]string{Standard: "standard", Archive: "archive"}
	actionTypeText   = map[ActionType]string{ActionExpire: "expire", ActionTransition: "transition"}
)

type policyJSON struct {
	Rules []ruleJSON `json:"rules"`
}

type ruleJSON struct {
	RulePriority int           `json:"rulePriority"`
	Description  string        `json:"description,omitempty"`
	Selection    selectionJSON `json:"selection"`
	Action       actionJSON    `json:"action"`
}

type selectionJSON struct {
	TagStatus      TagStatus `json:"tagStatus"`
	TagPatternList []string  `json:"tagPatternList,omitempty"`
	TagPrefixList  []string  `json:"tagPrefixList,omitempty"`
	StorageClass   string    `json:"storageClass,omitempty"`
	CountType      CountType `json:"countType"`
	CountUnit      string    `json:"countUnit,omitempty"`
	CountNumber    int       `json:"countNumber"`
}

type actionJSON struct {
	Type               string `json:"type"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
}

// MarshalJSON writes the policy as ECR policy text, rules in their order.
func (p *Policy) MarshalJSON() ([]byte, error) {
	out := policyJSON{Rules: make([]ruleJSON, 0, len(p.Rules))}
	for i := range p.Rules {
		r := &p.Rules[i]
		out.Rules = append(out.Rules, ruleJSON{
			RulePriority: r.Priority,
			Description:  r.Description,
			Selection: selectionJSON{
				TagStatus:      r.TagStatus,
				TagPatternList: r.TagPatternList,
				TagPrefixList:  r.TagPrefixList,
				StorageClass:   textOr(storageClassText, r.StorageClass),
				CountType:      r.CountType,
				CountUnit:      r.CountUnit,
				CountNumber:    r.CountNumber,
			},
			Action: actionJSON{
				Type:               textOr(actionTypeText, r.Action.Type),
				TargetStorageClass: textOr(storageClassText, r.Action.TargetStorageClass),
			},
		})
	}
	return json.Marshal(out)
}

func textOr[K ~string](m map[K]string, k K) string {
	if s, ok := m[k]; ok {
		return s
	}
	return string(k)
}
