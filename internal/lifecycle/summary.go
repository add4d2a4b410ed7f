package lifecycle

// Summary counts what an evaluation does: the API's
// LifecyclePolicyPreviewSummary.
type Summary struct {
	ExpiringImageTotalCount int
	// TransitioningImageTotalCounts has one entry per target storage class,
	// and is nil when no image transitions: the API sends the field "only
	// ... if at least one image will be transitioned".
	TransitioningImageTotalCounts []TransitionCount
}

// TransitionCount is the API's TransitioningImageTotalCount.
type TransitionCount struct {
	TargetStorageClass StorageClass
	ImageTotalCount    int
}

// Summarize counts the results of Evaluate.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Action.Type {
		case ActionExpire:
			s.ExpiringImageTotalCount++
		case ActionTransition:
			s.countTransition(r.Action.TargetStorageClass)
		}
	}
	return s
}

func (s *Summary) countTransition(class StorageClass) {
	for i := range s.TransitioningImageTotalCounts {
		if s.TransitioningImageTotalCounts[i].TargetStorageClass == class {
			s.TransitioningImageTotalCounts[i].ImageTotalCount++
			return
		}
	}
	s.TransitioningImageTotalCounts = append(s.TransitioningImageTotalCounts, TransitionCount{TargetStorageClass: class, ImageTotalCount: 1})
}
