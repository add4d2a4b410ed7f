package lifecycle

import "testing"

// Each test here is one example of the ECR User Guide page "Examples of
// lifecycle policies in Amazon ECR", its policy text as published. Where the
// page gives a repository and its outcome, those are the test's images and
// expected results; where it gives only the policy, the images are ours and
// the expected results follow the example's own sentence.

// "Filtering on image age": "expires images with a tag starting with prod by
// using a tagPatternList of prod* that are also older than 14 days."
func TestExampleFilteringOnImageAge(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire images older than 14 days",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["prod*"],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 14
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, []Image{
		image("old-prod", 20, "prod-1"),
		image("old-production", 15, "production-team1"),
		image("new-prod", 10, "prod-2"),
		image("just-14-days", 14, "prod-3"),
		image("old-dev", 30, "dev-1"),
		image("old-untagged", 30),
	},
		outcome{"old-prod", expire, 1},
		outcome{"old-production", expire, 1},
	)
}

// The same example as the page published it before tagPatternList: "a
// policy that expires untagged images older than 14 days".
func TestExampleFilteringOnImageAgeUntagged(t *testing.T) {
	const policy = `{"rules": [{"rulePriority": 1, "description": "Expire images older than 14 days",
		"selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
		"action": {"type": "expire"}}]}`
	check(t, policy, []Image{
		image("old", 15),
		image("new", 13),
		image("old-tagged", 30, "v1"),
	},
		outcome{"old", expire, 1},
	)
}

// "Filtering on last pulled time": "transitions images to archive storage
// that haven't been pulled in 90 days."
func TestExampleFilteringOnLastPulledTime(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled in 90 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        }
    ]
}`
	pulledLongAgo := image("pulled-100-days-ago", 300, "v1")
	pulledLongAgo.LastPulledAt = daysAgo(100)
	pulledRecently := image("pulled-10-days-ago", 300, "v2")
	pulledRecently.LastPulledAt = daysAgo(10)
	// "If an image was never pulled, the image's pushed_at_time is used".
	neverPulledOld := image("never-pulled-old", 120)
	neverPulledNew := image("never-pulled-new", 30)
	// "If an image was archived and then restored ... but never pulled since
	// the image was restored, the image's last_activated_at is used".
	restored := image("restored-10-days-ago", 400, "v3")
	restored.LastPulledAt = daysAgo(300)
	restored.LastActivatedAt = daysAgo(10)
	archived := image("already-archived", 400, "v4")
	archived.StorageClass = Archive
	archived.LastArchivedAt = daysAgo(200)

	check(t, policy, []Image{pulledLongAgo, pulledRecently, neverPulledOld, neverPulledNew, restored, archived},
		outcome{"pulled-100-days-ago", archive, 1},
		outcome{"never-pulled-old", archive, 1},
	)
}

// "Filtering on archive transition time": "expires archived images that have
// been in archive storage for more than 365 days."
func TestExampleFilteringOnArchiveTransitionTime(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire images archived for more than 365 days",
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	longArchived := image("archived-400-days", 900, "v1")
	longArchived.StorageClass, longArchived.LastArchivedAt = Archive, daysAgo(400)
	recentlyArchived := image("archived-100-days", 900, "v2")
	recentlyArchived.StorageClass, recentlyArchived.LastArchivedAt = Archive, daysAgo(100)
	check(t, policy, []Image{longArchived, recentlyArchived, image("standard-old", 1000, "v3")},
		outcome{"archived-400-days", expire, 1},
	)
}

// "Filtering on image count": "keeps only one untagged image and expires all
// others."
func TestExampleFilteringOnImageCount(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Keep only one untagged image, expire all others",
            "selection": {
                "tagStatus": "untagged",
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, []Image{
		image("untagged-3", 3),
		image("untagged-2", 2),
		image("untagged-1", 1),
		image("tagged-5", 5, "v1"),
	},
		outcome{"untagged-3", expire, 1},
		outcome{"untagged-2", expire, 1},
	)
}

// The repository of "Filtering on multiple rules", examples A and B.
func multipleRulesRepository() []Image {
	return []Image{
		image("A", 10, "beta-1", "prod-1"),
		image("B", 9, "beta-2", "prod-2"),
		image("C", 8, "beta-3"),
	}
}

// "Filtering on multiple rules", Example A: "Result: Image A is expired." The
// page has published the policy with tagPatternList and, before that, with
// tagPrefixList; both give the same outcome.
func TestExampleFilteringOnMultipleRulesA(t *testing.T) {
	const patterns = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Rule 1",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["prod*"],
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        },
        {
            "rulePriority": 2,
            "description": "Rule 2",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["beta*"],
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	const prefixes = `{"rules": [
		{"rulePriority": 1, "description": "Rule 1", "selection": {"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
		{"rulePriority": 2, "description": "Rule 2", "selection": {"tagStatus": "tagged", "tagPrefixList": ["beta"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`
	for name, policy := range map[string]string{"tagPatternList": patterns, "tagPrefixList": prefixes} {
		t.Run(name, func(t *testing.T) {
			// Rule 1 marks A; rule 2 would mark A and B, but A is rule 1's and
			// B was seen by rule 1.
			check(t, policy, multipleRulesRepository(), outcome{"A", expire, 1})
		})
	}
}

// "Filtering on multiple rules", Example B: "Result: Images A and B are
// expired."
func TestExampleFilteringOnMultipleRulesB(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Rule 1",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["beta*"],
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        },
        {
            "rulePriority": 2,
            "description": "Rule 2",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["prod*"],
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, multipleRulesRepository(), outcome{"A", expire, 1}, outcome{"B", expire, 1})
}

// "Filtering on multiple tags in a single rule", Example A: "When multiple
// tag patterns are specified on a single rule, images must match all listed
// tag patterns." "Result: Image C is expired."
func TestExampleFilteringOnMultipleTagsInASingleRuleA(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Rule 1",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["alpha*", "beta*"],
                "countType": "sinceImagePushed",
                "countNumber": 5,
                "countUnit": "days"
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, []Image{
		image("A", 12, "alpha-1"),
		image("B", 11, "beta-1"),
		image("C", 10, "alpha-2", "beta-2"),
		image("D", 4, "alpha-3"),
		image("E", 3, "beta-3"),
		image("F", 2, "alpha-4", "beta-4"),
	},
		outcome{"C", expire, 1},
	)
}

// "Filtering on multiple tags in a single rule", Example B: "tags are not
// exclusive." "Result: Images A and B are expired."
func TestExampleFilteringOnMultipleTagsInASingleRuleB(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Rule 1",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["alpha*", "beta*"],
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, []Image{
		image("A", 10, "alpha-1", "beta-1", "gamma-1"),
		image("B", 9, "alpha-2", "beta-2"),
		image("C", 8, "alpha-3", "beta-3", "gamma-2"),
	},
		outcome{"A", expire, 1},
		outcome{"B", expire, 1},
	)
}

// "Filtering on all images", Example A: "Result: Images A, B, and C are
// expired."
func TestExampleFilteringOnAllImagesA(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Rule 1",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, []Image{
		image("A", 4, "alpha-1"),
		image("B", 3, "beta-1"),
		image("C", 2),
		image("D", 1, "alpha-2"),
	},
		outcome{"A", expire, 1},
		outcome{"B", expire, 1},
		outcome{"C", expire, 1},
	)
}

// "Filtering on all images", Example B, "a lifecycle policy that combines all
// the rule types in a single policy": "Result: Images A, B, and D are
// expired." D and E are both "Pushed: 1 day ago" and rule 3 keeps E, the one
// listed later; Evaluate takes the later of equal push times as the newer.
func TestExampleFilteringOnAllImagesB(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Rule 1",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["alpha*"],
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        },
        {
            "rulePriority": 2,
            "description": "Rule 2",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        },
        {
            "rulePriority": 3,
            "description": "Rule 3",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": 1
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	check(t, policy, []Image{
		image("A", 4, "alpha-1", "beta-1"),
		image("B", 3),
		image("C", 2, "alpha-2"),
		image("D", 1, "git hash"),
		image("E", 1),
	},
		outcome{"A", expire, 1},
		outcome{"B", expire, 2},
		outcome{"D", expire, 3},
	)
}

// "Archive examples", "Archiving images older than a specified number of
// days": "archives images with tags starting with prod that are older than
// 30 days".
func TestExampleArchivingImagesOlderThanASpecifiedNumberOfDays(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive production images older than 30 days",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["prod*"],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        }
    ]
}`
	alreadyArchived := image("prod-archived", 60, "prod-0")
	alreadyArchived.StorageClass = Archive
	check(t, policy, []Image{
		image("prod-old", 31, "prod-1"),
		image("prod-new", 29, "prod-2"),
		image("dev-old", 90, "dev-1"),
		alreadyArchived,
	},
		outcome{"prod-old", archive, 1},
	)
}

// "Archive examples", "Archiving images not pulled in a specified number of
// days": "archives images that haven't been pulled in 90 days".
func TestExampleArchivingImagesNotPulledInASpecifiedNumberOfDays(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled in 90 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        }
    ]
}`
	idle := image("idle", 365, "v1")
	idle.LastPulledAt = daysAgo(91)
	busy := image("busy", 365, "v2")
	busy.LastPulledAt = daysAgo(1)
	check(t, policy, []Image{idle, busy, image("never-pulled", 100)},
		outcome{"idle", archive, 1},
		outcome{"never-pulled", archive, 1},
	)
}

// "Archive examples", "Combining archive and expire rules": "archives images
// older than 30 days and then permanently expires images that have been
// archived for more than 365 days". Each rule selects its own storage class,
// so an archived image is not "seen" by rule 1 and rule 2 may expire it.
func TestExampleCombiningArchiveAndExpireRules(t *testing.T) {
	const policy = `{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images older than 30 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        },
        {
            "rulePriority": 2,
            "description": "Expire images archived for more than 365 days",
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}`
	longArchived := image("archived-400-days", 500, "v1")
	longArchived.StorageClass, longArchived.LastArchivedAt = Archive, daysAgo(400)
	recentlyArchived := image("archived-200-days", 500, "v2")
	recentlyArchived.StorageClass, recentlyArchived.LastArchivedAt = Archive, daysAgo(200)
	check(t, policy, []Image{
		image("standard-40-days", 40, "v3"),
		image("standard-10-days", 10),
		longArchived,
		recentlyArchived,
	},
		outcome{"standard-40-days", archive, 1},
		outcome{"archived-400-days", expire, 2},
	)
}

// The wildcard limit's example, on "Lifecycle policy properties" and in
// "Lifecycle policy evaluation rules": ["*test*1*2*3", "test*1*2*3*"] is
// valid but ["test*1*2*3*4*5*6"] is invalid.
func TestExampleWildcardLimit(t *testing.T) {
	valid := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["*test*1*2*3","test*1*2*3*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	if _, err := Parse(valid); err != nil {
		t.Errorf("documented valid patterns refused: %v", err)
	}
	invalid := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["test*1*2*3*4*5*6"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	if _, err := Parse(invalid); err == nil {
		t.Error("documented invalid pattern accepted")
	}
}
