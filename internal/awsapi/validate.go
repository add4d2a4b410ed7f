package awsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"

	"github.com/berth-registry/berth/internal/awsapi/model"
)

var ecrModel = sync.OnceValues(func() (*model.Model, error) { return model.Service("ecr") })

// ecrModelHasOperation reports whether the ECR model defines op.
func ecrModelHasOperation(op string) bool {
	m, err := ecrModel()
	if err != nil {
		return false
	}
	_, ok := m.Operation(op)
	return ok
}

// validateECRInput checks an input against the ECR model's shapes, as AWS's
// front end does before the service sees the call.
func validateECRInput(op string, body []byte) error {
	m, err := ecrModel()
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var input map[string]any
	if err := dec.Decode(&input); err != nil || input == nil {
		return errorf("SerializationException", "the request body must be a JSON object")
	}
	err = m.ValidateInput(op, input)
	var ve *model.ValidationError
	if errors.As(err, &ve) {
		return &Error{Code: ve.Code, Message: ve.Message, Status: ve.HTTPStatus()}
	}
	return err
}
