package lifecycle

import (
	"errors"
	"strconv"
)

// ErrInvalidPolicy is the kind of every error Parse and Validate return.
//
// ECR answers PutLifecyclePolicy and StartLifecyclePolicyPreview with an
// invalid policy as InvalidParameterException, "Invalid parameter at
// 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy
// validation failure: …'" (cloudposse/terraform-aws-ecr#158, getmoto/moto's
// recordings); a ValidationError's Error() is the quoted part, so the ECR
// front door wraps it in that envelope. Where ECR's own sentence for a check
// is on record we keep it, after naming the rule:
//
//   - "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."
//   - "Rule for tagStatus=ANY must have the lowest priority per storage class"
//   - "Only one rule can select Untagged images per storage class"
//   - "Could not map policyString into LifecyclePolicy." (text that is not a
//     JSON object)
//
// ECR's schema messages ("object instance has properties which are not
// allowed by the schema: ([\"x\"])") name neither the rule nor the field, so
// for those we say which rule and which field instead.
var ErrInvalidPolicy = errors.New("invalid lifecycle policy")

// ValidationError says why a policy is invalid and where.
type ValidationError struct {
	// Rule is the rulePriority of the rule at fault, or 0 when the rule has
	// no valid rulePriority or the fault is not in one rule.
	Rule int
	// Index is the rule's position in the rules array, or -1 when the
	// fault is not in one rule.
	Index int
	// Field is the property at fault, as a path inside the rule
	// ("selection.tagPrefixList") or the policy ("rules"); "" for the text
	// as a whole.
	Field string
	// Reason is the sentence after the rule's name.
	Reason string
}

const failurePrefix = "Lifecycle policy validation failure: "

func (e *ValidationError) Error() string {
	switch {
	case e.Rule > 0:
		return failurePrefix + "rule " + strconv.Itoa(e.Rule) + ": " + e.Reason
	case e.Index >= 0:
		return failurePrefix + "rules[" + strconv.Itoa(e.Index) + "]: " + e.Reason
	}
	return failurePrefix + e.Reason
}

func (e *ValidationError) Unwrap() error { return ErrInvalidPolicy }

// policyError is a fault of the policy as a whole.
func policyError(field, reason string) *ValidationError {
	return &ValidationError{Index: -1, Field: field, Reason: reason}
}

// ruleError is a fault in the rule at index i whose rulePriority is prio (0
// when it has none yet).
func ruleError(i, prio int, field, reason string) *ValidationError {
	if prio < 1 {
		prio = 0
	}
	return &ValidationError{Rule: prio, Index: i, Field: field, Reason: reason}
}

func q(s string) string { return "'" + s + "'" }
