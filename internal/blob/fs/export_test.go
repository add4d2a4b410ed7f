package fs

// NewPageCacheOnly is New with direct I/O off, so that the shared suite
// runs over both ways of writing an upload.
func NewPageCacheOnly(root string) (*Store, error) {
	s, err := New(root)
	if err == nil {
		s.noDirect = true
	}
	return s, err
}
