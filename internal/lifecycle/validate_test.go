package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// rule writes one rule's JSON.
func rule(prio int, selection, action string) string {
	return fmt.Sprintf(`{"rulePriority":%d,"selection":{%s},"action":{%s}}`, prio, selection, action)
}

func policy(rules ...string) string { return `{"rules":[` + strings.Join(rules, ",") + `]}` }

// Selections and actions the tables build on.
const (
	untaggedCount = `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1`
	anyCount      = `"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1`
	prodCount     = `"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1`
	archivedAge   = `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`
	expireAction  = `"type":"expire"`
	archiveAction = `"type":"transition","targetStorageClass":"archive"`
)

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, text string
		field      string
		message    string // after "Lifecycle policy validation failure: "
	}{
		// The text as a whole.
		{"too long", `{"rules":[]}` + strings.Repeat(" ", MaxPolicyLength-11), "",
			"the policy text has 30721 characters; a lifecycle policy may have at most 30720"},
		{"not JSON", `rules: []`, "", "Could not map policyString into LifecyclePolicy. The text must be a JSON object."},
		{"JSON array", `[` + rule(1, untaggedCount, expireAction) + `]`, "", "Could not map policyString into LifecyclePolicy. The text must be a JSON object."},
		{"trailing text", policy(rule(1, untaggedCount, expireAction)) + `x`, "", "Could not map policyString into LifecyclePolicy. The text must be a JSON object."},
		{"no rules", `{}`, "rules", "'rules' is required"},
		{"rules null", `{"rules":null}`, "rules", "'rules' must be an array of rules"},
		{"rules object", `{"rules":` + rule(1, untaggedCount, expireAction) + `}`, "rules", "'rules' must be an array of rules"},
		{"rules empty", `{"rules":[]}`, "rules", "'rules' must hold at least one rule"},
		{"unknown top-level property", `{"rules":[` + rule(1, untaggedCount, expireAction) + `],"version":1}`, "version",
			"property 'version' is not allowed; allowed are 'rules'"},
		{"too many rules", tooManyRules(), "rules", "'rules' holds 51 rules; a lifecycle policy may hold at most 50"},

		// One rule's JSON form.
		{"rule not an object", `{"rules":["expire"]}`, "", "rules[0]: a rule must be a JSON object"},
		{"rulePriority missing", `{"rules":[{"selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "rulePriority",
			"rules[0]: 'rulePriority' is required"},
		{"rulePriority a string", `{"rules":[{"rulePriority":"1","selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "rulePriority",
			"rules[0]: 'rulePriority' must be an integer"},
		{"rulePriority fractional", `{"rules":[{"rulePriority":1.5,"selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "rulePriority",
			"rules[0]: 'rulePriority' must be an integer"},
		{"rulePriority 1.0", `{"rules":[{"rulePriority":1.0,"selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "rulePriority",
			"rules[0]: 'rulePriority' must be an integer"},
		{"rulePriority zero", policy(rule(0, untaggedCount, expireAction)), "rulePriority",
			"rules[0]: 'rulePriority' must be an integer from 1 to 2147483647 (found: 0)"},
		{"rulePriority negative", policy(rule(-3, untaggedCount, expireAction)), "rulePriority",
			"rules[0]: 'rulePriority' must be an integer from 1 to 2147483647 (found: -3)"},
		{"rulePriority huge", policy(rule(1, prodCount, expireAction), `{"rulePriority":99999999999,"selection":{`+untaggedCount+`},"action":{`+expireAction+`}}`), "rulePriority",
			"rules[1]: 'rulePriority' must be an integer from 1 to 2147483647 (found: 99999999999)"},
		{"unknown rule property", `{"rules":[{"rulePriority":7,"name":"x","selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "name",
			"rule 7: property 'name' is not allowed; allowed are 'rulePriority', 'description', 'selection', 'action'"},
		{"property names are case-sensitive", `{"rules":[{"rulePriority":1,"Selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "Selection",
			"rule 1: property 'Selection' is not allowed; allowed are 'rulePriority', 'description', 'selection', 'action'"},
		{"description not a string", `{"rules":[{"rulePriority":1,"description":5,"selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "description",
			"rule 1: 'description' must be a string"},
		{"description null", `{"rules":[{"rulePriority":1,"description":null,"selection":{` + untaggedCount + `},"action":{` + expireAction + `}}]}`, "description",
			"rule 1: 'description' must be a string"},
		{"selection missing", `{"rules":[{"rulePriority":2,"action":{` + expireAction + `}}]}`, "selection",
			"rule 2: 'selection' is required"},
		{"selection not an object", `{"rules":[{"rulePriority":2,"selection":[],"action":{` + expireAction + `}}]}`, "selection",
			"rule 2: 'selection' must be a JSON object"},
		{"action missing", `{"rules":[{"rulePriority":2,"selection":{` + untaggedCount + `}}]}`, "action",
			"rule 2: 'action' is required"},
		{"action not an object", `{"rules":[{"rulePriority":2,"selection":{` + untaggedCount + `},"action":"expire"}]}`, "action",
			"rule 2: 'action' must be a JSON object"},
		{"unknown selection property", policy(rule(2, untaggedCount+`,"maxAge":3`, expireAction)), "selection.maxAge",
			"rule 2: property 'selection.maxAge' is not allowed; allowed are 'tagStatus', 'tagPatternList', 'tagPrefixList', 'storageClass', 'countType', 'countUnit', 'countNumber'"},
		{"unknown action property", policy(rule(2, untaggedCount, expireAction+`,"dryRun":true`)), "action.dryRun",
			"rule 2: property 'action.dryRun' is not allowed; allowed are 'type', 'targetStorageClass'"},
		{"tagStatus missing", policy(rule(2, `"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagStatus",
			"rule 2: 'selection.tagStatus' is required"},
		{"tagStatus unknown", policy(rule(2, `"tagStatus":"TAGGED","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagStatus",
			"rule 2: 'selection.tagStatus' must be one of 'tagged', 'untagged', 'any' (found: 'TAGGED')"},
		{"countType missing", policy(rule(2, `"tagStatus":"untagged","countNumber":1`, expireAction)), "selection.countType",
			"rule 2: 'selection.countType' is required"},
		{"countType unknown", policy(rule(2, `"tagStatus":"untagged","countType":"sinceImageCreated","countUnit":"days","countNumber":1`, expireAction)), "selection.countType",
			"rule 2: 'selection.countType' must be one of 'imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned' (found: 'sinceImageCreated')"},
		{"countNumber missing", policy(rule(2, `"tagStatus":"untagged","countType":"imageCountMoreThan"`, expireAction)), "selection.countNumber",
			"rule 2: 'selection.countNumber' is required"},
		{"countNumber a string", policy(rule(2, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":"5"`, expireAction)), "selection.countNumber",
			"rule 2: 'selection.countNumber' must be an integer"},
		{"countNumber in exponent form", policy(rule(2, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1e1`, expireAction)), "selection.countNumber",
			"rule 2: 'selection.countNumber' must be an integer"},
		{"tagPrefixList not a list", policy(rule(2, `"tagStatus":"tagged","tagPrefixList":"prod","countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPrefixList",
			"rule 2: 'selection.tagPrefixList' must be an array of strings"},
		{"tagPatternList holds a number", policy(rule(2, `"tagStatus":"tagged","tagPatternList":["prod*",1],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPatternList[1]",
			"rule 2: 'selection.tagPatternList[1]' must be a string"},
		{"storageClass unknown", policy(rule(2, untaggedCount+`,"storageClass":"glacier"`, expireAction)), "selection.storageClass",
			"rule 2: 'selection.storageClass' must be one of 'standard', 'archive' (found: 'glacier')"},
		{"countUnit unknown", policy(rule(2, `"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"hours","countNumber":1`, expireAction)), "selection.countUnit",
			"rule 2: 'selection.countUnit' must be 'days' (found: 'hours')"},
		{"action type missing", policy(rule(2, untaggedCount, ``)), "action.type",
			"rule 2: 'action.type' is required"},
		{"action type unknown", policy(rule(2, untaggedCount, `"type":"delete"`)), "action.type",
			"rule 2: 'action.type' must be one of 'expire', 'transition' (found: 'delete')"},
		{"action type upper case", policy(rule(2, untaggedCount, `"type":"EXPIRE"`)), "action.type",
			"rule 2: 'action.type' must be one of 'expire', 'transition' (found: 'EXPIRE')"},
		{"targetStorageClass unknown", policy(rule(2, untaggedCount, `"type":"transition","targetStorageClass":"standard"`)), "action.targetStorageClass",
			"rule 2: 'action.targetStorageClass' must be 'archive' (found: 'standard')"},
		// cloudposse/terraform-aws-ecr#158: ECR refuses "targetStorageClass":
		// null next to "type":"expire".
		{"targetStorageClass null", policy(rule(2, untaggedCount, `"type":"expire","targetStorageClass":null`)), "action.targetStorageClass",
			"rule 2: 'action.targetStorageClass' must be a string"},

		// One rule's meaning ("Lifecycle policy properties").
		{"tagged without filters", policy(rule(2, `"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPrefixList",
			"rule 2: Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."},
		{"tagged with both lists", policy(rule(2, `"tagStatus":"tagged","tagPrefixList":["prod"],"tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPatternList",
			"rule 2: 'selection.tagPrefixList' and 'selection.tagPatternList' cannot both be specified in one rule"},
		{"tagPrefixList with untagged", policy(rule(2, `"tagStatus":"untagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPrefixList",
			"rule 2: 'selection.tagPrefixList' is allowed only when 'selection.tagStatus' is 'tagged'"},
		{"tagPatternList with any", policy(rule(2, `"tagStatus":"any","tagPatternList":["*"],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPatternList",
			"rule 2: 'selection.tagPatternList' is allowed only when 'selection.tagStatus' is 'tagged'"},
		{"empty tagPrefixList with any", policy(rule(2, `"tagStatus":"any","tagPrefixList":[],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPrefixList",
			"rule 2: 'selection.tagPrefixList' is allowed only when 'selection.tagStatus' is 'tagged'"},
		{"empty tagPatternList", policy(rule(2, `"tagStatus":"tagged","tagPatternList":[],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPatternList",
			"rule 2: 'selection.tagPatternList' must hold at least one value"},
		{"empty prefix", policy(rule(2, `"tagStatus":"tagged","tagPrefixList":["prod",""],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPrefixList[1]",
			"rule 2: 'selection.tagPrefixList[1]' must not be empty"},
		{"five wildcards", policy(rule(2, `"tagStatus":"tagged","tagPatternList":["*a*b*c*d*"],"countType":"imageCountMoreThan","countNumber":1`, expireAction)), "selection.tagPatternList[0]",
			"rule 2: 'selection.tagPatternList[0]' '*a*b*c*d*' has 5 wildcards; a tag pattern may hold at most 4"},
		{"countUnit with imageCountMoreThan", policy(rule(2, `"tagStatus":"untagged","countType":"imageCountMoreThan","countUnit":"days","countNumber":1`, expireAction)), "selection.countUnit",
			"rule 2: 'selection.countUnit' is allowed only when 'selection.countType' is 'sinceImagePushed', 'sinceImagePulled' or 'sinceImageTransitioned'"},
		{"countUnit missing for sinceImagePushed", policy(rule(2, `"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":1`, expireAction)), "selection.countUnit",
			"rule 2: 'selection.countUnit' is required when 'selection.countType' is 'sinceImagePushed'"},
		{"countUnit missing for sinceImagePulled", policy(rule(2, `"tagStatus":"untagged","countType":"sinceImagePulled","countNumber":1`, archiveAction)), "selection.countUnit",
			"rule 2: 'selection.countUnit' is required when 'selection.countType' is 'sinceImagePulled'"},
		{"countNumber zero", policy(rule(2, `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":0`, expireAction)), "selection.countNumber",
			"rule 2: 'selection.countNumber' must be an integer from 1 to 2147483647 (found: 0)"},
		{"countNumber negative", policy(rule(2, `"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":-1`, expireAction)), "selection.countNumber",
			"rule 2: 'selection.countNumber' must be an integer from 1 to 2147483647 (found: -1)"},
		{"storageClass archive with imageCountMoreThan", policy(rule(2, untaggedCount+`,"storageClass":"archive"`, expireAction)), "selection.storageClass",
			"rule 2: 'selection.storageClass' must be 'standard' when 'selection.countType' is 'imageCountMoreThan'"},
		{"storageClass archive with sinceImagePulled", policy(rule(2, `"tagStatus":"any","storageClass":"archive","countType":"sinceImagePulled","countUnit":"days","countNumber":90`, archiveAction)), "selection.storageClass",
			"rule 2: 'selection.storageClass' must be 'standard' when 'selection.countType' is 'sinceImagePulled'"},
		{"storageClass missing for sinceImageTransitioned", policy(rule(2, `"tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, expireAction)), "selection.storageClass",
			"rule 2: 'selection.storageClass' is required when 'selection.countType' is 'sinceImageTransitioned'"},
		{"storageClass standard for sinceImageTransitioned", policy(rule(2, `"tagStatus":"any","storageClass":"standard","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, expireAction)), "selection.storageClass",
			"rule 2: 'selection.storageClass' must be 'archive' when 'selection.countType' is 'sinceImageTransitioned'"},
		{"fewer than 90 days in archive", policy(rule(2, `"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":89`, expireAction)), "selection.countNumber",
			"rule 2: 'selection.countNumber' must be at least 90 when 'selection.countType' is 'sinceImageTransitioned': archived images must stay in archive for 90 days before a lifecycle policy can expire them (found: 89)"},
		{"sinceImagePulled with expire", policy(rule(2, `"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90`, expireAction)), "action.type",
			"rule 2: 'action.type' must be 'transition' when 'selection.countType' is 'sinceImagePulled'"},
		{"sinceImageTransitioned with transition", policy(rule(2, archivedAge, archiveAction)), "action.type",
			"rule 2: 'action.type' must be 'expire' when 'selection.countType' is 'sinceImageTransitioned'"},
		{"transition without target", policy(rule(2, untaggedCount, `"type":"transition"`)), "action.targetStorageClass",
			"rule 2: 'action.targetStorageClass' is required when 'action.type' is 'transition'"},
		{"expire with target", policy(rule(2, untaggedCount, `"type":"expire","targetStorageClass":"archive"`)), "action.targetStorageClass",
			"rule 2: 'action.targetStorageClass' is allowed only when 'action.type' is 'transition'"},

		// The rules together.
		{"duplicate rulePriority", policy(rule(1, untaggedCount, expireAction), rule(2, prodCount, expireAction), rule(1, anyCount, expireAction)), "rulePriority",
			"rules[2]: 'rulePriority' 1 is also the rulePriority of rules[0]; each rule needs its own"},
		{"any not last", policy(rule(1, anyCount, expireAction), rule(2, untaggedCount, expireAction)), "rulePriority",
			"rule 1: Rule for tagStatus=ANY must have the lowest priority per storage class: rule 2 also selects 'standard' images and has a higher 'rulePriority'"},
		{"any not last, rules out of order", policy(rule(5, prodCount, expireAction), rule(3, anyCount, expireAction)), "rulePriority",
			"rule 3: Rule for tagStatus=ANY must have the lowest priority per storage class: rule 5 also selects 'standard' images and has a higher 'rulePriority'"},
		{"two any rules", policy(rule(1, anyCount, expireAction), rule(2, anyCount, expireAction)), "rulePriority",
			"rule 1: Rule for tagStatus=ANY must have the lowest priority per storage class: rule 2 also selects 'standard' images and has a higher 'rulePriority'"},
		{"any before an archive rule of its class", policy(rule(1, archivedAge, expireAction), rule(2, `"tagStatus":"tagged","tagPrefixList":["v"],"storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":100`, expireAction)), "rulePriority",
			"rule 1: Rule for tagStatus=ANY must have the lowest priority per storage class: rule 2 also selects 'archive' images and has a higher 'rulePriority'"},
		{"two untagged rules", policy(rule(1, untaggedCount, expireAction), rule(2, `"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":3`, expireAction)), "selection.tagStatus",
			"rule 2: Only one rule can select Untagged images per storage class: rule 1 also selects untagged 'standard' images"},
		{"same prefixes twice", policy(rule(1, prodCount, expireAction), rule(2, `"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"sinceImagePushed","countUnit":"days","countNumber":3`, expireAction)), "selection.tagPrefixList",
			"rule 2: 'selection.tagPrefixList' is the same set as rule 1's; the rules selecting 'standard' images must each have a unique set of tag filters"},
		{"same patterns in another order", policy(
			rule(1, `"tagStatus":"tagged","tagPatternList":["a*","b*"],"countType":"imageCountMoreThan","countNumber":1`, expireAction),
			rule(2, `"tagStatus":"tagged","tagPatternList":["b*","a*"],"countType":"imageCountMoreThan","countNumber":5`, archiveAction)), "selection.tagPatternList",
			"rule 2: 'selection.tagPatternList' is the same set as rule 1's; the rules selecting 'standard' images must each have a unique set of tag filters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.text)
			if err == nil {
				t.Fatalf("Parse accepted %s: %+v", tc.text, p)
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("error is not ErrInvalidPolicy: %v", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, not *ValidationError", err)
			}
			if got, want := err.Error(), "Lifecycle policy validation failure: "+tc.message; got != want {
				t.Errorf("message\n got: %s\nwant: %s", got, want)
			}
			if ve.Field != tc.field {
				t.Errorf("Field = %q, want %q", ve.Field, tc.field)
			}
		})
	}
}

func tooManyRules() string {
	var rules []string
	for i := 1; i <= MaxRules+1; i++ {
		rules = append(rules, rule(i, fmt.Sprintf(`"tagStatus":"tagged","tagPrefixList":["p%d"],"countType":"imageCountMoreThan","countNumber":1`, i), expireAction))
	}
	return policy(rules...)
}

func TestParseAccepts(t *testing.T) {
	tests := []struct{ name, text string }{
		{"priorities need not be sequential", policy(rule(10, prodCount, expireAction), rule(3, untaggedCount, expireAction), rule(99, anyCount, expireAction))},
		{"one any rule per storage class", policy(rule(1, `"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30`, archiveAction), rule(2, archivedAge, expireAction))},
		{"untagged rule in each storage class", policy(rule(1, untaggedCount, expireAction), rule(2, `"tagStatus":"untagged","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90`, expireAction))},
		{"same prefixes in different storage classes", policy(rule(1, prodCount, archiveAction), rule(2, `"tagStatus":"tagged","tagPrefixList":["prod"],"storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":120`, expireAction))},
		{"prefix list and pattern list with the same text", policy(rule(1, prodCount, expireAction), rule(2, `"tagStatus":"tagged","tagPatternList":["prod"],"countType":"imageCountMoreThan","countNumber":3`, expireAction))},
		{"overlapping but different sets", policy(rule(1, prodCount, expireAction), rule(2, `"tagStatus":"tagged","tagPrefixList":["prod","beta"],"countType":"imageCountMoreThan","countNumber":3`, expireAction))},
		{"explicit standard storage class", policy(rule(1, untaggedCount+`,"storageClass":"standard"`, expireAction))},
		{"transition by count", policy(rule(1, untaggedCount, archiveAction))},
		{"pattern without wildcard", policy(rule(1, `"tagStatus":"tagged","tagPatternList":["latest"],"countType":"imageCountMoreThan","countNumber":10`, expireAction))},
		{"four wildcards", policy(rule(1, `"tagStatus":"tagged","tagPatternList":["*a*b*c*"],"countType":"imageCountMoreThan","countNumber":10`, expireAction))},
		{"exactly 90 days in archive", policy(rule(1, archivedAge, expireAction))},
		{"exactly the length limit", padTo(policy(rule(1, untaggedCount, expireAction)), MaxPolicyLength)},
		{"fifty rules", fiftyRules()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate of a parsed policy: %v", err)
			}
		})
	}
}

func fiftyRules() string {
	var rules []string
	for i := 1; i <= MaxRules; i++ {
		rules = append(rules, rule(i, fmt.Sprintf(`"tagStatus":"tagged","tagPrefixList":["p%d"],"countType":"imageCountMoreThan","countNumber":1`, i), expireAction))
	}
	return policy(rules...)
}

// padTo pads JSON text with spaces to n characters.
func padTo(text string, n int) string {
	return text[:len(text)-1] + strings.Repeat(" ", n-len(text)) + "}"
}

func TestParseKeepsThePolicy(t *testing.T) {
	p := mustParse(t, policy(
		`{"rulePriority":2,"description":"old betas","selection":{"tagStatus":"tagged","tagPatternList":["beta*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}`,
		`{"rulePriority":1,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},"action":{"type":"expire"}}`,
	))
	want := []Rule{
		{Priority: 2, Description: "old betas", TagStatus: TagStatusTagged, TagPatternList: []string{"beta*"},
			CountType: CountSinceImagePushed, CountUnit: "days", CountNumber: 30, Action: Action{Type: ActionTransition, TargetStorageClass: Archive}},
		{Priority: 1, TagStatus: TagStatusAny, StorageClass: Archive,
			CountType: CountSinceImageTransitioned, CountUnit: "days", CountNumber: 365, Action: Action{Type: ActionExpire}},
	}
	if got := fmt.Sprintf("%+v", p.Rules); got != fmt.Sprintf("%+v", want) {
		t.Errorf("rules\n got: %s\nwant: %+v", got, want)
	}
}

// Validate judges policies built in Go as Parse judges text.
func TestValidateBuiltPolicy(t *testing.T) {
	ok := Rule{Priority: 1, TagStatus: TagStatusUntagged, CountType: CountImageCountMoreThan, CountNumber: 1, Action: Action{Type: ActionExpire}}
	if err := (&Policy{Rules: []Rule{ok}}).Validate(); err != nil {
		t.Errorf("valid policy refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		p      *Policy
		reason string
	}{
		{"nil", nil, "Lifecycle policy validation failure: 'rules' must hold at least one rule"},
		{"zero rule", &Policy{Rules: []Rule{{}}}, "Lifecycle policy validation failure: rules[0]: 'rulePriority' must be an integer from 1 to 2147483647 (found: 0)"},
		{"no tag status", &Policy{Rules: []Rule{{Priority: 4}}}, "Lifecycle policy validation failure: rule 4: 'selection.tagStatus' is required"},
		{"no count type", &Policy{Rules: []Rule{{Priority: 4, TagStatus: TagStatusAny}}}, "Lifecycle policy validation failure: rule 4: 'selection.countType' is required"},
		{"no action", &Policy{Rules: []Rule{{Priority: 4, TagStatus: TagStatusAny, CountType: CountImageCountMoreThan, CountNumber: 1}}}, "Lifecycle policy validation failure: rule 4: 'action.type' is required"},
		{"empty prefix list", &Policy{Rules: []Rule{{Priority: 4, TagStatus: TagStatusTagged, TagPrefixList: []string{}, CountType: CountImageCountMoreThan, CountNumber: 1, Action: Action{Type: ActionExpire}}}},
			"Lifecycle policy validation failure: rule 4: 'selection.tagPrefixList' must hold at least one value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if err == nil || err.Error() != tc.reason {
				t.Errorf("got %v\nwant %s", err, tc.reason)
			}
		})
	}
}
