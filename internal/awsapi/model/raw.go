package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// rawModel mirrors the subset of botocore's service-2.json that Berth uses.
type rawModel struct {
	Metadata struct {
		APIVersion       string `json:"apiVersion"`
		Protocol         string `json:"protocol"`
		JSONVersion      string `json:"jsonVersion"`
		TargetPrefix     string `json:"targetPrefix"`
		SigningName      string `json:"signingName"`
		EndpointPrefix   string `json:"endpointPrefix"`
		ServiceID        string `json:"serviceId"`
		ServiceFullName  string `json:"serviceFullName"`
		SignatureVersion string `json:"signatureVersion"`
		XMLNamespace     string `json:"xmlNamespace"`
	} `json:"metadata"`
	Operations map[string]*rawOperation `json:"operations"`
	Shapes     map[string]*rawShape     `json:"shapes"`
}

type rawRef struct {
	Shape        string `json:"shape"`
	Location     string `json:"location"`
	LocationName string `json:"locationName"`
	Deprecated   bool   `json:"deprecated"`
}

type rawOperation struct {
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input         rawRef   `json:"input"`
	Output        rawRef   `json:"output"`
	Errors        []rawRef `json:"errors"`
	Documentation string   `json:"documentation"`
	Deprecated    bool     `json:"deprecated"`
}

type rawShape struct {
	Type      string      `json:"type"`
	Members   rawMembers  `json:"members"`
	Required  []string    `json:"required"`
	Min       json.Number `json:"min"`
	Max       json.Number `json:"max"`
	Pattern   string      `json:"pattern"`
	Enum      []string    `json:"enum"`
	Member    rawRef      `json:"member"`
	Key       rawRef      `json:"key"`
	Value     rawRef      `json:"value"`
	Sensitive bool        `json:"sensitive"`
	Exception bool        `json:"exception"`
	Fault     bool        `json:"fault"`
	Error     struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
	} `json:"error"`
}

type rawMember struct {
	Name string
	rawRef
}

// rawMembers keeps structure members in the order the model lists them: a
// Go map would lose it, and the order is part of the contract (docs, SDK
// serialisation, and the order type errors are found in).
type rawMembers []rawMember

func (rm *rawMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return err
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members: want object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var ref rawRef
		if err := dec.Decode(&ref); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*rm = append(*rm, rawMember{Name: name, rawRef: ref})
	}
	_, err := dec.Token() // closing brace
	return err
}

func decodeRaw(r io.Reader) (*rawModel, error) {
	var raw rawModel
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &raw, nil
}

// bound converts a min/max to an integer. Every bound in the embedded models
// is integral; a fractional one would need float comparisons we don't have.
func bound(n json.Number) (*int64, error) {
	if n == "" {
		return nil, nil
	}
	if i, err := n.Int64(); err == nil {
		return &i, nil
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return nil, fmt.Errorf("bound %s is not an integer", n)
	}
	i := int64(f)
	return &i, nil
}
