package usergroupsemu

import (
	"encoding/xml"
	"net/http"
)

// Error codes the emulator answers in ResponseStatus.ErrorCode, after
// ServiceStack's conventions (exception type names, validator rule names).
const (
	codeUnauthorized  = "Unauthorized"
	codeNotFound      = "NotFound"
	codeNotEmpty      = "NotEmpty"
	codeBinding       = "RequestBindingException"
	codeSerialization = "SerializationException"
	codeNoRoute       = "NotImplementedException"
)

// failure is an error answer: an HTTP status and the ServiceStack
// {"ResponseStatus": {...}} body. No failure ever quotes a request value.
type failure struct {
	status         int
	ResponseStatus responseStatus `json:"ResponseStatus"`
}

// responseStatus is ServiceStack's error report.
type responseStatus struct {
	ErrorCode string       `json:"ErrorCode" xml:"ErrorCode"`
	Errors    []fieldError `json:"Errors,omitempty" xml:"Errors>ResponseError,omitempty"`
	Message   string       `json:"Message" xml:"Message"`
}

// fieldError is one entry of ResponseStatus.Errors.
type fieldError struct {
	ErrorCode string `json:"ErrorCode" xml:"ErrorCode"`
	FieldName string `json:"FieldName" xml:"FieldName"`
	Message   string `json:"Message" xml:"Message"`
}

type xmlErrorResponse struct {
	XMLName        xml.Name       `xml:"ErrorResponse"`
	NS             string         `xml:"xmlns:i,attr"`
	ResponseStatus responseStatus `xml:"ResponseStatus"`
}

func (f *failure) xmlDoc() any {
	return xmlErrorResponse{NS: xmlnsInstance, ResponseStatus: f.ResponseStatus}
}

func newFailure(status int, code, message string) *failure {
	return &failure{status: status, ResponseStatus: responseStatus{ErrorCode: code, Message: message}}
}

// invalidField is a 400 naming the request member at fault.
func invalidField(field, code, message string) *failure {
	f := newFailure(http.StatusBadRequest, code, message)
	f.ResponseStatus.Errors = []fieldError{{ErrorCode: code, FieldName: field, Message: message}}
	return f
}

func bindingFailure(message string) *failure {
	return newFailure(http.StatusBadRequest, codeBinding, message)
}

func serializationFailure(format string) *failure {
	return newFailure(http.StatusBadRequest, codeSerialization, "The request body is not valid "+format+".")
}

func unauthorized() *failure {
	return newFailure(http.StatusUnauthorized, codeUnauthorized, "Invalid CompanyId or IntegrationKey.")
}

func notFound() *failure {
	return newFailure(http.StatusNotFound, codeNotFound, "User group not found.")
}

// unknownRoute answers 405 for every route the API does not have, as the
// vendor documents (405 instead of 404 for an endpoint that does not exist).
func unknownRoute(*http.Request) (answer, *failure) {
	return nil, newFailure(http.StatusMethodNotAllowed, codeNoRoute, "The operation does not exist.")
}
