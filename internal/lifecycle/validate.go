package lifecycle

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Validate checks what ECR checks of a policy beyond its JSON form: every
// rule on its own ("Lifecycle policy properties"), then the rules together
// ("Lifecycle policy evaluation rules"). It returns the first fault as a
// *ValidationError. Parse calls it; so may code that builds a Policy.
func (p *Policy) Validate() error {
	if p == nil || len(p.Rules) == 0 {
		return policyError("rules", "'rules' must hold at least one rule")
	}
	if len(p.Rules) > MaxRules {
		return policyError("rules", fmt.Sprintf("'rules' holds %d rules; a lifecycle policy may hold at most %d", len(p.Rules), MaxRules))
	}
	for i := range p.Rules {
		if err := p.Rules[i].validate(i); err != nil {
			return err
		}
	}
	return validateTogether(p.Rules)
}

// validate checks one rule against "Lifecycle policy properties".
func (r *Rule) validate(i int) error {
	fail := func(field, reason string) error { return ruleError(i, r.Priority, field, reason) }

	if r.Priority < 1 || r.Priority > maxInteger {
		return fail("rulePriority", fmt.Sprintf("'rulePriority' must be an integer from 1 to %d (found: %d)", maxInteger, r.Priority))
	}

	switch r.TagStatus {
	case TagStatusTagged:
		if r.TagPrefixList != nil && r.TagPatternList != nil {
			// "A lifecycle policy rule may specify either tagPatternList or
			// tagPrefixList, but not both."
			return fail("selection.tagPatternList", "'selection.tagPrefixList' and 'selection.tagPatternList' cannot both be specified in one rule")
		}
		if r.TagPrefixList == nil && r.TagPatternList == nil {
			return fail("selection.tagPrefixList", "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.")
		}
	case TagStatusUntagged, TagStatusAny:
		// "If you specify untagged, then you must omit both tagPrefixList
		// and tagPatternList"; "The tagPatternList or tagPrefixList
		// parameters may only [be] used if the tagStatus is tagged."
		if r.TagPrefixList != nil {
			return fail("selection.tagPrefixList", "'selection.tagPrefixList' is allowed only when 'selection.tagStatus' is 'tagged'")
		}
		if r.TagPatternList != nil {
			return fail("selection.tagPatternList", "'selection.tagPatternList' is allowed only when 'selection.tagStatus' is 'tagged'")
		}
	case "":
		return fail("selection.tagStatus", "'selection.tagStatus' is required")
	default:
		return fail("selection.tagStatus", "'selection.tagStatus' must be one of 'tagged', 'untagged', 'any' (found: "+q(string(r.TagStatus))+")")
	}
	if err := checkTagList(r.TagPrefixList, "selection.tagPrefixList", false, fail); err != nil {
		return err
	}
	if err := checkTagList(r.TagPatternList, "selection.tagPatternList", true, fail); err != nil {
		return err
	}

	switch r.CountType {
	case CountImageCountMoreThan, CountSinceImagePushed, CountSinceImagePulled, CountSinceImageTransitioned:
	case "":
		return fail("selection.countType", "'selection.countType' is required")
	default:
		return fail("selection.countType", "'selection.countType' must be one of 'imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned' (found: "+q(string(r.CountType))+")")
	}
	ct := q(string(r.CountType))

	// "The rule will only select images of this storage class. When using a
	// countType of imageCountMoreThan, sinceImagePushed, or sinceImagePulled,
	// the only supported value is standard. When using a count type of
	// sinceImageTransitioned, this is required, and the only supported value
	// is archive."
	switch r.StorageClass {
	case "", Standard, Archive:
	default:
		return fail("selection.storageClass", "'selection.storageClass' must be one of 'standard', 'archive' (found: "+q(textOr(storageClassText, r.StorageClass))+")")
	}
	if r.CountType == CountSinceImageTransitioned {
		if r.StorageClass == "" {
			return fail("selection.storageClass", "'selection.storageClass' is required when 'selection.countType' is 'sinceImageTransitioned'")
		}
		if r.StorageClass != Archive {
			return fail("selection.storageClass", "'selection.storageClass' must be 'archive' when 'selection.countType' is 'sinceImageTransitioned'")
		}
	} else if r.StorageClass == Archive {
		return fail("selection.storageClass", "'selection.storageClass' must be 'standard' when 'selection.countType' is "+ct)
	}

	// "This should only be specified when countType is sinceImagePushed,
	// sinceImagePulled, or sinceImageTransitioned; an error will occur if you
	// specify a count unit when countType is any other value."
	if r.CountType.isSince() {
		if r.CountUnit == "" {
			return fail("selection.countUnit", "'selection.countUnit' is required when 'selection.countType' is "+ct)
		}
		if r.CountUnit != CountUnitDays {
			return fail("selection.countUnit", "'selection.countUnit' must be 'days' (found: "+q(r.CountUnit)+")")
		}
	} else if r.CountUnit != "" {
		return fail("selection.countUnit", "'selection.countUnit' is allowed only when 'selection.countType' is 'sinceImagePushed', 'sinceImagePulled' or 'sinceImageTransitioned'")
	}

	// "Acceptable values are positive integers (0 is not an accepted value)."
	if r.CountNumber < 1 || r.CountNumber > maxInteger {
		return fail("selection.countNumber", fmt.Sprintf("'selection.countNumber' must be an integer from 1 to %d (found: %d)", maxInteger, r.CountNumber))
	}
	if r.CountType == CountSinceImageTransitioned && r.CountNumber < MinArchiveDays {
		return fail("selection.countNumber", fmt.Sprintf("'selection.countNumber' must be at least %d when 'selection.countType' is 'sinceImageTransitioned': archived images must stay in archive for %d days before a lifecycle policy can expire them (found: %d)", MinArchiveDays, MinArchiveDays, r.CountNumber))
	}

	switch r.Action.Type {
	case ActionExpire:
		if r.Action.TargetStorageClass != "" {
			return fail("action.targetStorageClass", "'action.targetStorageClass' is allowed only when 'action.type' is 'transition'")
		}
		// "The sinceImagePulled count type must be used with the transition
		// action. It cannot be used with the expire action."
		if r.CountType == CountSinceImagePulled {
			return fail("action.type", "'action.type' must be 'transition' when 'selection.countType' is 'sinceImagePulled'")
		}
	case ActionTransition:
		// "targetStorageClass ... Required: yes, if type is transition ...
		// archive is the only supported value."
		if r.Action.TargetStorageClass == "" {
			return fail("action.targetStorageClass", "'action.targetStorageClass' is required when 'action.type' is 'transition'")
		}
		if r.Action.TargetStorageClass != Archive {
			return fail("action.targetStorageClass", "'action.targetStorageClass' must be 'archive' (found: "+q(textOr(storageClassText, r.Action.TargetStorageClass))+")")
		}
		// "The sinceImageTransitioned count type must be used with the
		// expire action and the archive storage class."
		if r.CountType == CountSinceImageTransitioned {
			return fail("action.type", "'action.type' must be 'expire' when 'selection.countType' is 'sinceImageTransitioned'")
		}
	case "":
		return fail("action.type", "'action.type' is required")
	default:
		return fail("action.type", "'action.type' must be one of 'expire', 'transition' (found: "+q(textOr(actionTypeText, r.Action.Type))+")")
	}
	return nil
}

// checkTagList checks the strings of a tagPrefixList or tagPatternList. The
// documents give no grammar for them beyond the wildcard limit; an empty
// list or an empty string selects nothing useful, so both are refused.
func checkTagList(list []string, field string, pattern bool, fail func(field, reason string) error) error {
	if list == nil {
		return nil
	}
	if len(list) == 0 {
		return fail(field, q(field)+" must hold at least one value")
	}
	for j, s := range list {
		at := field + "[" + strconv.Itoa(j) + "]"
		if s == "" {
			return fail(at, q(at)+" must not be empty")
		}
		// "There is a maximum limit of four wildcards (*) per string."
		if n := strings.Count(s, "*"); pattern && n > MaxWildcards {
			return fail(at, fmt.Sprintf("%s %s has %d wildcards; a tag pattern may hold at most %d", q(at), q(s), n, MaxWildcards))
		}
	}
	return nil
}

// validateTogether checks what holds across rules ("Lifecycle policy
// properties", rulePriority; "Lifecycle policy evaluation rules"). A check
// "per storage class" compares only the rules that select the same class:
// the published "Combining archive and expire rules" example has a
// tagStatus any rule for each class, and ECR's message says "per storage
// class".
func validateTogether(rules []Rule) error {
	// "you must give them each a unique value for rulePriority."
	first := make(map[int]int, len(rules))
	for i := range rules {
		if j, ok := first[rules[i].Priority]; ok {
			return ruleError(i, 0, "rulePriority", fmt.Sprintf("'rulePriority' %d is also the rulePriority of rules[%d]; each rule needs its own", rules[i].Priority, j))
		}
		first[rules[i].Priority] = i
	}

	for i := range rules {
		r := &rules[i]
		for j := range rules {
			o := &rules[j]
			if i == j || o.selects() != r.selects() {
				continue
			}
			class := q(storageClassText[r.selects()])
			// "A rule with a tagStatus value of any must have the highest
			// value for rulePriority and be evaluated last."
			if r.TagStatus == TagStatusAny && o.Priority > r.Priority {
				return ruleError(i, r.Priority, "rulePriority",
					fmt.Sprintf("Rule for tagStatus=ANY must have the lowest priority per storage class: rule %d also selects %s images and has a higher 'rulePriority'", o.Priority, class))
			}
			if j > i {
				continue
			}
			// "Only one rule selecting a specific storage class is allowed
			// to select untagged images." The published "Filtering on all
			// images" example B pairs an untagged rule with an any rule, so
			// this counts tagStatus untagged only.
			if r.TagStatus == TagStatusUntagged && o.TagStatus == TagStatusUntagged {
				return ruleError(i, r.Priority, "selection.tagStatus",
					fmt.Sprintf("Only one rule can select Untagged images per storage class: rule %d also selects untagged %s images", o.Priority, class))
			}
			// "The set of all rules selecting a specific storage class must
			// contain a unique set of prefixes."
			if field, same := sameTagSet(r, o); same {
				return ruleError(i, r.Priority, field,
					fmt.Sprintf("%s is the same set as rule %d's; the rules selecting %s images must each have a unique set of tag filters", q(field), o.Priority, class))
			}
		}
	}
	return nil
}

// sameTagSet reports whether two tagged rules filter on the same set of
// prefixes, or the same set of patterns.
func sameTagSet(a, b *Rule) (string, bool) {
	if a.TagStatus != TagStatusTagged || b.TagStatus != TagStatusTagged {
		return "", false
	}
	switch {
	case a.TagPrefixList != nil && b.TagPrefixList != nil:
		return "selection.tagPrefixList", sameSet(a.TagPrefixList, b.TagPrefixList)
	case a.TagPatternList != nil && b.TagPatternList != nil:
		return "selection.tagPatternList", sameSet(a.TagPatternList, b.TagPatternList)
	}
	return "", false
}

func sameSet(a, b []string) bool {
	return slices.Equal(sortedSet(a), sortedSet(b))
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
