package awsapi

import (
	"encoding/xml"
	"fmt"
	"net/http"
)

const stsXMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

// serveLegacyQuery answers query-protocol calls (STS and IAM) until they
// move onto the service table: Action and Version in a form-encoded body
// or the query string.
func (s *Server) serveLegacyQuery(w http.ResponseWriter, r *http.Request, requestID string) {
	body, aerr := readBody(r)
	if aerr != nil {
		writeQueryError(w, aerr, stsXMLNS, requestID)
		return
	}
	form, aerr := readForm(r, body)
	if aerr != nil {
		writeQueryError(w, aerr, stsXMLNS, requestID)
		return
	}
	if legacyQueryService(r, form) == "iam" {
		s.serveIAM(w, r, requestID, body, form)
		return
	}
	action := form.Get("Action")
	p, _, aerr := s.authenticate(r, body, "sts")
	if aerr != nil {
		writeQueryError(w, queryAuthError(aerr), stsXMLNS, requestID)
		return
	}
	switch action {
	case "AssumeRole":
		s.assumeRole(w, r, requestID, p, form)
	case "GetCallerIdentity":
		type result struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		}
		resp := struct {
			XMLName  xml.Name `xml:"GetCallerIdentityResponse"`
			Xmlns    string   `xml:"xmlns,attr"`
			Result   result   `xml:"GetCallerIdentityResult"`
			Metadata struct {
				RequestID string `xml:"RequestId"`
			} `xml:"ResponseMetadata"`
		}{Xmlns: stsXMLNS, Result: result{Arn: p.ARN, UserID: p.UserID, Account: p.Account}}
		resp.Metadata.RequestID = requestID
		out, _ := xml.Marshal(resp)
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(xml.Header))
		w.Write(out)
	case "":
		writeQueryError(w, errorf("MissingAction", "the request names no Action"), stsXMLNS, requestID)
	default:
		writeQueryError(w, errorf("InvalidAction", fmt.Sprintf("Berth does not support the STS action %s yet", truncate(action, 100))), stsXMLNS, requestID)
	}
}
