package genesysemu

// The wire models, written from the reference (not shared with the typed
// client, so that a mapping bug on either side shows up in the contract
// test). Response fields the real service always sends carry no omitempty.

// entityRef is a DomainEntityRef / Division: id, name, selfUri.
type entityRef struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri"`
}

// image is a group or user image.
type image struct {
	Resolution string `json:"resolution,omitempty"`
	ImageURI   string `json:"imageUri,omitempty"`
}

// groupContact is a group address (GroupContact).
type groupContact struct {
	Address   string `json:"address,omitempty"`
	Extension string `json:"extension,omitempty"`
	Display   string `json:"display,omitempty"`
	Type      string `json:"type"`
	MediaType string `json:"mediaType"`
}

// contact is a user address (Contact).
type contact struct {
	Address   string `json:"address,omitempty"`
	Display   string `json:"display,omitempty"`
	MediaType string `json:"mediaType"`
	Type      string `json:"type"`
}

// chat holds a user's chat address.
type chat struct {
	JabberID string `json:"jabberId"`
}

// groupJSON is the Group model.
type groupJSON struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Description   string         `json:"description,omitempty"`
	DateModified  string         `json:"dateModified"`
	MemberCount   int            `json:"memberCount"`
	State         string         `json:"state"`
	Version       int            `json:"version"`
	Type          string         `json:"type"`
	Images        []image        `json:"images,omitempty"`
	Addresses     []groupContact `json:"addresses,omitempty"`
	RulesVisible  bool           `json:"rulesVisible"`
	Visibility    string         `json:"visibility"`
	RolesEnabled  bool           `json:"rolesEnabled"`
	IncludeOwners bool           `json:"includeOwners"`
	CallsEnabled  bool           `json:"callsEnabled"`
	Owners        []entityRef    `json:"owners,omitempty"`
	SelfURI       string         `json:"selfUri"`
}

// groupProfileJSON is the GroupProfile model.
type groupProfileJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	State        string `json:"state"`
	DateModified string `json:"dateModified"`
	Version      int    `json:"version"`
	SelfURI      string `json:"selfUri"`
}

// groupCreateRequest is the GroupCreate body. Read-only Group fields are
// accepted and ignored, as the reference says; description is ignored too.
type groupCreateRequest struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Description   string         `json:"description"`
	DateModified  string         `json:"dateModified"`
	MemberCount   *int           `json:"memberCount"`
	State         string         `json:"state"`
	Version       *int           `json:"version"`
	Type          string         `json:"type"`
	Images        []image        `json:"images"`
	Addresses     []groupContact `json:"addresses"`
	RulesVisible  *bool          `json:"rulesVisible"`
	Visibility    string         `json:"visibility"`
	RolesEnabled  *bool          `json:"rolesEnabled"`
	IncludeOwners *bool          `json:"includeOwners"`
	CallsEnabled  *bool          `json:"callsEnabled"`
	OwnerIDs      []string       `json:"ownerIds"`
	SelfURI       string         `json:"selfUri"`
}

// groupUpdateRequest is the GroupUpdate body: every field but version is
// optional and an omitted field keeps its value.
type groupUpdateRequest struct {
	ID            string          `json:"id"`
	Name          *string         `json:"name"`
	Description   *string         `json:"description"`
	State         *string         `json:"state"`
	Version       *int            `json:"version"`
	Images        *[]image        `json:"images"`
	Addresses     *[]groupContact `json:"addresses"`
	RulesVisible  *bool           `json:"rulesVisible"`
	Visibility    *string         `json:"visibility"`
	RolesEnabled  *bool           `json:"rolesEnabled"`
	IncludeOwners *bool           `json:"includeOwners"`
	CallsEnabled  *bool           `json:"callsEnabled"`
	OwnerIDs      *[]string       `json:"ownerIds"`
	SelfURI       string          `json:"selfUri"`
}

// membersUpdateRequest is the GroupMembersUpdate body.
type membersUpdateRequest struct {
	MemberIDs []string `json:"memberIds"`
	Version   *int     `json:"version"`
}

// listing is the page envelope of GroupEntityListing, UserEntityListing and
// GroupProfileEntityListing; the entities are spliced in by withList.
type listing struct {
	PageSize    int    `json:"pageSize"`
	PageNumber  int    `json:"pageNumber"`
	Total       int    `json:"total"`
	FirstURI    string `json:"firstUri"`
	SelfURI     string `json:"selfUri"`
	NextURI     string `json:"nextUri,omitempty"`
	PreviousURI string `json:"previousUri,omitempty"`
	LastURI     string `json:"lastUri"`
	PageCount   int    `json:"pageCount"`
}

// errorBody is the ErrorBody model.
type errorBody struct {
	Message       string            `json:"message"`
	Code          string            `json:"code"`
	Status        int               `json:"status"`
	MessageParams map[string]string `json:"messageParams,omitempty"`
	ContextID     string            `json:"contextId"`
	Details       []detail          `json:"details"`
	Errors        []errorBody       `json:"errors"`
}

// detail is one Detail of an ErrorBody.
type detail struct {
	ErrorCode string `json:"errorCode,omitempty"`
	FieldName string `json:"fieldName,omitempty"`
	EntityID  string `json:"entityId,omitempty"`
}

// tokenResponse is the answer of the token endpoint.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// authError is the token endpoint's error body.
type authError struct {
	Error            string `json:"error"`
	Description      string `json:"description"`
	ErrorDescription string `json:"error_description"`
}

// meJSON is the answer of GET /api/v2/users/me.
type meJSON struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Authorization *authorization `json:"authorization,omitempty"`
	SelfURI       string         `json:"selfUri"`
}

// authorization lists a user's permissions.
type authorization struct {
	Permissions []string `json:"permissions"`
}
