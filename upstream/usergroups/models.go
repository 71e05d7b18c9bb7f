package usergroups

// UserGroup is a group of users of the forms platform, as the Usergroup API
// returns it. JSON members are PascalCase; ExternalId is missing from answers
// when the group has none.
type UserGroup struct {
	// ID is the group's id, made by the upstream on create: a GUID, which the
	// platform spells as 32 hex digits without hyphens. Treat it as opaque
	// and compare ids with upstream.OpaqueIDKey.
	ID string `json:"Id"`
	// Name is the group's display name.
	Name string `json:"Name"`
	// ExternalID is the caller-chosen external identifier, nil when unset.
	ExternalID *string `json:"ExternalId,omitempty"`
	// UserIDs are the ids of the member users (may be empty), opaque as ID.
	UserIDs []string `json:"UserIds"`
	// CompanyID is the owning company (tenant).
	CompanyID int64 `json:"CompanyId"`
}

// CreateRequest is the body of a create. The client adds the credentials.
type CreateRequest struct {
	// Name is required.
	Name string `json:"Name"`
	// ExternalID is optional; nil sends no ExternalId.
	ExternalID *string `json:"ExternalId,omitempty"`
	// UserIDs are the initial members; nil is sent as [] (no members).
	UserIDs []string `json:"UserIds"`
}

// UpdateRequest is the body of an update. The PUT replaces the whole group
// (whether omitted members are kept is not documented), so callers send the
// full object: read the group, change it, and send every field back. A nil
// UserIDs is sent as [] and leaves the group without members.
type UpdateRequest struct {
	// ID is the id of the group to update (required).
	ID string `json:"Id"`
	// Name is the group's name after the update (required).
	Name string `json:"Name"`
	// ExternalID is the external identifier after the update.
	ExternalID *string `json:"ExternalId,omitempty"`
	// UserIDs is the complete member list after the update.
	UserIDs []string `json:"UserIds"`
}

// MaxPageSize is the largest PageSize the search accepts.
const MaxPageSize = 250

// SearchOptions filters and pages a search. Zero values are not sent, so
// the upstream's defaults apply (first page; the default size is not
// documented).
type SearchOptions struct {
	// Name filters by group name (exact or partial match is not documented).
	Name string
	// ExternalID filters by external identifier.
	ExternalID string
	// PageNo is the 0-based page index.
	PageNo int
	// PageSize is the rows per page, at most MaxPageSize.
	PageSize int
}

// SearchResult is one page of a search. The upstream documents no paging
// metadata: a page shorter than the requested PageSize is the last one.
type SearchResult struct {
	// UserGroups are the groups of the page.
	UserGroups []UserGroup `json:"UserGroups"`
}

// ResponseStatus is the ServiceStack error report the upstream puts in a
// response (next to or instead of the data) when a call fails.
type ResponseStatus struct {
	// ErrorCode is the machine-readable code, often an exception type name
	// such as "ArgumentException"; empty on success.
	ErrorCode string `json:"ErrorCode"`
	// Message is the human-readable description.
	Message string `json:"Message"`
	// Errors are per-field validation failures.
	Errors []FieldError `json:"Errors"`
}

// FieldError is one validation failure of a ResponseStatus.
type FieldError struct {
	// ErrorCode is the validation rule that failed, e.g. "NotEmpty".
	ErrorCode string `json:"ErrorCode"`
	// FieldName names the request member at fault.
	FieldName string `json:"FieldName"`
	// Message is the human-readable description.
	Message string `json:"Message"`
}

// envelope is a decoded answer: every answer may carry a ResponseStatus.
type envelope interface {
	status() *ResponseStatus
}

// statusEnvelope is an answer with no data, such as the {} of a delete,
// or an error answer.
type statusEnvelope struct {
	ResponseStatus *ResponseStatus `json:"ResponseStatus"`
}

func (e *statusEnvelope) status() *ResponseStatus { return e.ResponseStatus }

// groupEnvelope is the {"UserGroup": {...}} answer of create, get and update.
type groupEnvelope struct {
	statusEnvelope
	UserGroup *UserGroup `json:"UserGroup"`
}

// searchEnvelope is the {"UserGroups": [...]} answer of a search.
type searchEnvelope struct {
	statusEnvelope
	SearchResult
}

// credentials are embedded in every request body (POST, PUT).
type credentials struct {
	CompanyID      int64  `json:"CompanyId"`
	IntegrationKey string `json:"IntegrationKey"`
}

// createBody is the JSON sent by Create.
type createBody struct {
	CreateRequest
	credentials
}

// updateBody is the JSON sent by Update.
type updateBody struct {
	UpdateRequest
	credentials
}
