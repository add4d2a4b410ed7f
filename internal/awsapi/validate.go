package awsapi

// ecrModelHasOperation reports whether the ECR model defines op.
// TODO(model): replaced by the embedded botocore model.
func ecrModelHasOperation(op string) bool { return false }

// validateECRInput checks an input against the ECR model.
func validateECRInput(op string, body []byte) error { return nil }
