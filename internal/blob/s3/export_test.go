package s3

// SetBeforeComplete makes s call f before it completes a multipart upload
// in Commit; an error from f stops Commit there, leaving what a crash would.
func SetBeforeComplete(s *Store, f func() error) { s.beforeComplete = f }

// SegmentSize is the largest staging segment.
const SegmentSize = segmentSize

// SetMaxDeleteObjects changes how many keys one DeleteObjects carries, so
// that a test can cross a batch boundary with few blobs; it returns the
// old value.
func SetMaxDeleteObjects(n int) int {
	old := maxDeleteObjects
	maxDeleteObjects = n
	return old
}
