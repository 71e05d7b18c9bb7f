package genesys

import (
	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"
)

// GroupType is the kind of a group; it cannot be changed after creation.
type GroupType string

// Group types.
const (
	GroupTypeOfficial GroupType = "official"
	GroupTypeSocial   GroupType = "social"
)

// Visibility says who can see a group.
type Visibility string

// Visibilities. GroupUpdate's schema lists "ownerIds" instead of "owners"
// (a schema bug since 2018); the client sends VisibilityOwners in both
// GroupCreate and GroupUpdate.
const (
	VisibilityPublic  Visibility = "public"
	VisibilityOwners  Visibility = "owners"
	VisibilityMembers Visibility = "members"
)

// State is the life-cycle state of a group, group profile or user.
type State string

// States. A deleted group may still be returned by GET with StateDeleted.
const (
	StateActive   State = "active"
	StateInactive State = "inactive"
	StateDeleted  State = "deleted"
)

// SortOrder orders the pages of GET /groups, /profiles/groups and
// /groups/{id}/members.
type SortOrder string

// Sort orders of the listing endpoints.
const (
	SortAscending  SortOrder = "ascending"
	SortDescending SortOrder = "descending"
)

// SearchSortOrder orders group search results.
type SearchSortOrder string

// Sort orders of the search endpoint.
const (
	SearchSortAscending  SearchSortOrder = "ASC"
	SearchSortDescending SearchSortOrder = "DESC"
	SearchSortScore      SearchSortOrder = "SCORE"
)

// CriteriaType is how a GroupSearchCriteria matches. Groups have no
// QUERY_STRING, RANGE or DATE_RANGE type.
type CriteriaType string

// Search criteria types.
const (
	CriteriaExact          CriteriaType = "EXACT"
	CriteriaStartsWith     CriteriaType = "STARTS_WITH"
	CriteriaContains       CriteriaType = "CONTAINS"
	CriteriaRegex          CriteriaType = "REGEX"
	CriteriaTerm           CriteriaType = "TERM"
	CriteriaTerms          CriteriaType = "TERMS"
	CriteriaRequiredFields CriteriaType = "REQUIRED_FIELDS"
	CriteriaMatchAll       CriteriaType = "MATCH_ALL"
)

// CriteriaOperator combines a search criterion with the others.
type CriteriaOperator string

// Search criteria operators.
const (
	OperatorAnd CriteriaOperator = "AND"
	OperatorOr  CriteriaOperator = "OR"
	OperatorNot CriteriaOperator = "NOT"
)

// ConditionOperation combines the conditions of a DynamicGroupSkillCondition
// (mixed case, exactly as the API spells it).
type ConditionOperation string

// Dynamic group condition operations.
const (
	OperationAnd ConditionOperation = "And"
	OperationNot ConditionOperation = "Not"
	OperationOr  ConditionOperation = "Or"
)

// Comparator compares a user's proficiency with a condition's proficiency.
type Comparator string

// Dynamic group comparators.
const (
	EqualTo              Comparator = "EqualTo"
	NotEqualTo           Comparator = "NotEqualTo"
	LessThan             Comparator = "LessThan"
	GreaterThan          Comparator = "GreaterThan"
	GreaterThanOrEqualTo Comparator = "GreaterThanOrEqualTo"
	LessThanOrEqualTo    Comparator = "LessThanOrEqualTo"
)

// GroupContactType is the kind of a group phone address.
type GroupContactType string

// Group contact types and the only media type they use.
const (
	GroupContactRing  GroupContactType = "GROUPRING"
	GroupContactPhone GroupContactType = "GROUPPHONE"
	// MediaTypePhone is GroupContact.MediaType's only value.
	MediaTypePhone = "PHONE"
)

// EntityType is the entity a FieldConfig describes.
type EntityType string

// Field config entity types (externalContact is listed only by the 2018
// swagger and the seed's parameter list).
const (
	EntityPerson          EntityType = "person"
	EntityGroup           EntityType = "group"
	EntityOrg             EntityType = "org"
	EntityExternalContact EntityType = "externalContact"
)

// Group is a Genesys group as returned by GET, POST and PUT /groups and in
// listings and search results. Dates are ISO-8601 strings as sent.
// The client decodes it by hand (unmarshal_models.go), with the types it
// holds: a new member must be added there too (TestUnmarshalEveryField fails
// until it is).
type Group struct {
	ID           string         `json:"id,omitempty"`
	Name         string         `json:"name,omitempty"`
	Description  string         `json:"description,omitempty"`
	DateModified string         `json:"dateModified,omitempty"`
	MemberCount  int64          `json:"memberCount,omitempty"`
	State        State          `json:"state,omitempty"`
	Version      int            `json:"version,omitempty"`
	Type         GroupType      `json:"type,omitempty"`
	Images       []Image        `json:"images,omitempty"`
	Addresses    []GroupContact `json:"addresses,omitempty"`
	RulesVisible bool           `json:"rulesVisible"`
	Visibility   Visibility     `json:"visibility,omitempty"`
	// RolesEnabled, IncludeOwners and CallsEnabled appeared in 2024; nil
	// means the answer did not carry them.
	RolesEnabled  *bool  `json:"rolesEnabled,omitempty"`
	IncludeOwners *bool  `json:"includeOwners,omitempty"`
	CallsEnabled  *bool  `json:"callsEnabled,omitempty"`
	Owners        []User `json:"owners,omitempty"`
	SelfURI       string `json:"selfUri,omitempty"`
}

// GroupCreate is the body of POST /groups. Name, Type, RulesVisible and
// Visibility are required. The server ignores Description on create (set it
// with a follow-up UpdateGroup).
type GroupCreate struct {
	Name          string         `json:"name"`
	Description   string         `json:"description,omitempty"`
	Type          GroupType      `json:"type"`
	Images        []Image        `json:"images,omitempty"`
	Addresses     []GroupContact `json:"addresses,omitempty"`
	RulesVisible  bool           `json:"rulesVisible"`
	Visibility    Visibility     `json:"visibility"`
	RolesEnabled  *bool          `json:"rolesEnabled,omitempty"`
	IncludeOwners *bool          `json:"includeOwners,omitempty"`
	CallsEnabled  *bool          `json:"callsEnabled,omitempty"`
	OwnerIDs      []string       `json:"ownerIds,omitempty"`
}

// GroupUpdate is the body of PUT /groups/{id}. Version (the group's current
// version) is required; every other field is sent only when set, so nil
// means "not given" and the server keeps the value.
//
// Images and Addresses are sent whenever they are not nil: an empty, non-nil
// slice is sent as [] and clears the list (Terraform's provider relies on
// this for addresses, resource_genesyscloud_group_utils.go), a nil one is
// left out. OwnerIDs is left out when empty: Genesys' own tools never send
// [] there, they clear the owners with OwnerIDs: []string{" "}.
type GroupUpdate struct {
	// ID is read-only and ignored by the server.
	ID            string         `json:"id,omitempty"`
	Name          *string        `json:"name,omitempty"`
	Description   *string        `json:"description,omitempty"`
	State         *State         `json:"state,omitempty"`
	Version       int            `json:"version"`
	Images        []Image        `json:"images,omitzero"`
	Addresses     []GroupContact `json:"addresses,omitzero"`
	RulesVisible  *bool          `json:"rulesVisible,omitempty"`
	Visibility    *Visibility    `json:"visibility,omitempty"`
	RolesEnabled  *bool          `json:"rolesEnabled,omitempty"`
	IncludeOwners *bool          `json:"includeOwners,omitempty"`
	CallsEnabled  *bool          `json:"callsEnabled,omitempty"`
	OwnerIDs      []string       `json:"ownerIds,omitempty"`
	// SelfURI is read-only and ignored by the server.
	SelfURI string `json:"selfUri,omitempty"`
}

// GroupMembersUpdate is the body of POST /groups/{id}/members: at most
// MaxMembersPerRequest ids. Version is optional since SDK 247 (2026-01); send
// the group's current version when known.
type GroupMembersUpdate struct {
	MemberIDs []string `json:"memberIds"`
	Version   *int     `json:"version,omitempty"`
}

// GroupContact is a phone address of a group.
type GroupContact struct {
	Address   string `json:"address,omitempty"`
	Extension string `json:"extension,omitempty"`
	// Display is read-only: the formatted Address.
	Display   string           `json:"display,omitempty"`
	Type      GroupContactType `json:"type,omitempty"`
	MediaType string           `json:"mediaType,omitempty"`
}

// Image is a group or user image.
type Image struct {
	Resolution string `json:"resolution,omitempty"`
	ImageURI   string `json:"imageUri,omitempty"`
}

// Page is the paging envelope shared by the entity listings. The client
// decodes it by hand (pageMember in unmarshal_models.go): a new member must
// be added there too (TestUnmarshalEveryField fails until it is).
type Page struct {
	PageSize    int    `json:"pageSize,omitempty"`
	PageNumber  int    `json:"pageNumber,omitempty"`
	Total       int64  `json:"total,omitempty"`
	PageCount   int    `json:"pageCount,omitempty"`
	FirstURI    string `json:"firstUri,omitempty"`
	PreviousURI string `json:"previousUri,omitempty"`
	NextURI     string `json:"nextUri,omitempty"`
	LastURI     string `json:"lastUri,omitempty"`
	SelfURI     string `json:"selfUri,omitempty"`
}

// GroupEntityListing is a page of groups (GET /groups).
type GroupEntityListing struct {
	Entities []Group `json:"entities"`
	Page
}

// UserEntityListing is a page of users (group members and individuals).
type UserEntityListing struct {
	Entities []User `json:"entities"`
	Page
}

// GroupProfileEntityListing is a page of group profiles (GET /profiles/groups).
type GroupProfileEntityListing struct {
	Entities []GroupProfile `json:"entities"`
	Page
}

// User is a group member, individual or owner. The members that only an
// expand= brings (see UserExpansions) sit behind one pointer, nil when the
// answer carries none of them: a page of plain users does not allocate,
// clear and scan them for every user.
// The client decodes it by hand (unmarshal_models.go), with the types it
// holds: a new member must be added there too (TestUnmarshalEveryField fails
// until it is).
type User struct {
	ID                 string    `json:"id,omitempty"`
	Name               string    `json:"name,omitempty"`
	Division           *Division `json:"division,omitempty"`
	Chat               *Chat     `json:"chat,omitempty"`
	Department         string    `json:"department,omitempty"`
	Email              string    `json:"email,omitempty"`
	PrimaryContactInfo []Contact `json:"primaryContactInfo,omitempty"`
	Addresses          []Contact `json:"addresses,omitempty"`
	State              State     `json:"state,omitempty"`
	Title              string    `json:"title,omitempty"`
	Username           string    `json:"username,omitempty"`
	Manager            *User     `json:"manager,omitempty"`
	Images             []Image   `json:"images,omitempty"`
	Version            int       `json:"version,omitempty"`
	PreferredName      string    `json:"preferredName,omitempty"`
	AcdAutoAnswer      *bool     `json:"acdAutoAnswer,omitempty"`
	// LanguagePreference, DateLastLogin and DateWelcomeSent need an expand
	// too, but they are small and the one-pass page decoder
	// (unmarshal_fast.go) reads them: they stay here.
	LanguagePreference string `json:"languagePreference,omitempty"`
	DateLastLogin      string `json:"dateLastLogin,omitempty"`
	DateWelcomeSent    string `json:"dateWelcomeSent,omitempty"`
	SelfURI            string `json:"selfUri,omitempty"`
	// Expansions holds the members that only an expand= brings, nil when
	// the answer has none of them. Its members are inlined: the JSON is
	// that of a flat user (json v2; encoding/json does not know inline).
	Expansions *UserExpansions `json:",inline"`
}

// UserExpansions are the members of a User that an expand= brings. The
// parts that the gateway does not interpret are kept as raw JSON.
type UserExpansions struct {
	Certifications      []string       `json:"certifications,omitempty"`
	Biography           *Biography     `json:"biography,omitempty"`
	EmployerInfo        *EmployerInfo  `json:"employerInfo,omitempty"`
	RoutingStatus       jsontext.Value `json:"routingStatus,omitempty"`
	Presence            jsontext.Value `json:"presence,omitempty"`
	IntegrationPresence jsontext.Value `json:"integrationPresence,omitempty"`
	ConversationSummary jsontext.Value `json:"conversationSummary,omitempty"`
	OutOfOffice         jsontext.Value `json:"outOfOffice,omitempty"`
	Geolocation         jsontext.Value `json:"geolocation,omitempty"`
	Station             jsontext.Value `json:"station,omitempty"`
	Authorization       jsontext.Value `json:"authorization,omitempty"`
	ProfileSkills       []string       `json:"profileSkills,omitempty"`
	Locations           jsontext.Value `json:"locations,omitempty"`
	Groups              []Group        `json:"groups,omitempty"`
	Team                jsontext.Value `json:"team,omitempty"`
	WorkPlanBidRanks    jsontext.Value `json:"workPlanBidRanks,omitempty"`
	Skills              jsontext.Value `json:"skills,omitempty"`
	Languages           jsontext.Value `json:"languages,omitempty"`
	LastTokenIssued     jsontext.Value `json:"lastTokenIssued,omitempty"`
}

// Chat holds a user's chat identity.
type Chat struct {
	JabberID string `json:"jabberId,omitempty"`
}

// Contact is a user's phone, e-mail or SMS address.
type Contact struct {
	Address     string `json:"address,omitempty"`
	Display     string `json:"display,omitempty"`
	MediaType   string `json:"mediaType,omitempty"`
	Type        string `json:"type,omitempty"`
	Extension   string `json:"extension,omitempty"`
	CountryCode string `json:"countryCode,omitempty"`
	Integration string `json:"integration,omitempty"`
}

// Biography is a user's expanded biography.
type Biography struct {
	Biography string         `json:"biography,omitempty"`
	Interests []string       `json:"interests,omitempty"`
	Hobbies   []string       `json:"hobbies,omitempty"`
	Spouse    string         `json:"spouse,omitempty"`
	Education jsontext.Value `json:"education,omitempty"`
}

// EmployerInfo is a user's expanded employer information.
type EmployerInfo struct {
	OfficialName string `json:"officialName,omitempty"`
	EmployeeID   string `json:"employeeId,omitempty"`
	EmployeeType string `json:"employeeType,omitempty"`
	DateHire     string `json:"dateHire,omitempty"`
}

// Division is the division a user belongs to.
type Division struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`
}

// DomainEntityRef is a reference to an entity by id and name.
type DomainEntityRef struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`
}

// AddressableEntityRef is a reference to an entity by id only.
type AddressableEntityRef struct {
	ID      string `json:"id,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`
}

// GroupSearchRequest is the body of POST /groups/search. All fields are
// optional; pages are 1-based.
type GroupSearchRequest struct {
	SortOrder  SearchSortOrder       `json:"sortOrder,omitempty"`
	SortBy     string                `json:"sortBy,omitempty"`
	PageSize   int                   `json:"pageSize,omitempty"`
	PageNumber int                   `json:"pageNumber,omitempty"`
	Sort       []SearchSort          `json:"sort,omitempty"`
	Query      []GroupSearchCriteria `json:"query,omitempty"`
}

// GroupSearchCriteria is one condition of a group search.
type GroupSearchCriteria struct {
	// Type is required by the API, in nested criteria too; SearchGroups
	// refuses a criterion without one rather than send "".
	Type       CriteriaType          `json:"type"`
	Fields     []string              `json:"fields,omitempty"`
	Value      string                `json:"value,omitempty"`
	Values     []string              `json:"values,omitempty"`
	StartValue string                `json:"startValue,omitempty"`
	EndValue   string                `json:"endValue,omitempty"`
	DateFormat string                `json:"dateFormat,omitempty"`
	Operator   CriteriaOperator      `json:"operator,omitempty"`
	Group      []GroupSearchCriteria `json:"group,omitempty"`
}

// SearchSort is one key of a multi-key search sort.
type SearchSort struct {
	SortOrder SearchSortOrder `json:"sortOrder,omitempty"`
	SortBy    string          `json:"sortBy,omitempty"`
}

// GroupsSearchResponse is a page of group search results. PreviousPage,
// CurrentPage and NextPage are relative URIs carrying a q64 cursor (see
// CursorQ64). The client decodes it by hand (searchPageMember in
// unmarshal_models.go): a new member must be added there too
// (TestUnmarshalEveryField fails until it is).
type GroupsSearchResponse struct {
	Total        int64    `json:"total"`
	PageCount    int      `json:"pageCount"`
	PageSize     int      `json:"pageSize"`
	PageNumber   int      `json:"pageNumber"`
	PreviousPage string   `json:"previousPage,omitempty"`
	CurrentPage  string   `json:"currentPage,omitempty"`
	NextPage     string   `json:"nextPage,omitempty"`
	Types        []string `json:"types"`
	Results      []Group  `json:"results"`
}

// DynamicGroupDefinition is a group's dynamic membership rule
// (GET /groups/{id}/dynamicsettings, a preview API).
type DynamicGroupDefinition struct {
	Group        *AddressableEntityRef `json:"group,omitempty"`
	DateModified string                `json:"dateModified,omitempty"`
	Query        DynamicGroupQuery     `json:"query"`
	SelfURI      string                `json:"selfUri,omitempty"`
}

// DynamicGroupQuery selects users by skills; it is the body of PUT
// dynamicsettings and of the preview.
type DynamicGroupQuery struct {
	SkillConditions []DynamicGroupSkillCondition `json:"skillConditions"`
}

// DynamicGroupSkillCondition combines routing and language skill
// conditions with Operation. Both lists are required by the API (they may be
// empty; nil is sent as []).
type DynamicGroupSkillCondition struct {
	RoutingSkillConditions  []DynamicGroupRoutingSkillCondition  `json:"routingSkillConditions"`
	LanguageSkillConditions []DynamicGroupLanguageSkillCondition `json:"languageSkillConditions"`
	Operation               ConditionOperation                   `json:"operation"`
}

// MarshalJSON sends nil condition lists as [] because the API requires them.
func (c DynamicGroupSkillCondition) MarshalJSON() ([]byte, error) {
	type plain DynamicGroupSkillCondition
	p := plain(c)
	if p.RoutingSkillConditions == nil {
		p.RoutingSkillConditions = []DynamicGroupRoutingSkillCondition{}
	}
	if p.LanguageSkillConditions == nil {
		p.LanguageSkillConditions = []DynamicGroupLanguageSkillCondition{}
	}
	return json.Marshal(p)
}

// DynamicGroupRoutingSkillCondition tests a routing skill's proficiency (0-5).
type DynamicGroupRoutingSkillCondition struct {
	RoutingSkill    string                       `json:"routingSkill"`
	Comparator      Comparator                   `json:"comparator"`
	Proficiency     int                          `json:"proficiency"`
	ChildConditions []DynamicGroupSkillCondition `json:"childConditions,omitempty"`
}

// DynamicGroupLanguageSkillCondition tests a language skill's proficiency (0-5).
type DynamicGroupLanguageSkillCondition struct {
	LanguageSkill   string                       `json:"languageSkill"`
	Comparator      Comparator                   `json:"comparator"`
	Proficiency     int                          `json:"proficiency"`
	ChildConditions []DynamicGroupSkillCondition `json:"childConditions,omitempty"`
}

// DynamicGroupQueryPreview is how many users a DynamicGroupQuery selects.
type DynamicGroupQueryPreview struct {
	UserCount int `json:"userCount"`
}

// ErrorBody is the JSON body of every Genesys 4xx/5xx answer.
type ErrorBody struct {
	Message           string            `json:"message,omitempty"`
	Code              string            `json:"code,omitempty"`
	Status            int               `json:"status,omitempty"`
	EntityID          string            `json:"entityId,omitempty"`
	EntityName        string            `json:"entityName,omitempty"`
	MessageWithParams string            `json:"messageWithParams,omitempty"`
	MessageParams     map[string]string `json:"messageParams,omitempty"`
	// ContextID equals the ININ-Correlation-Id response header.
	ContextID string      `json:"contextId,omitempty"`
	Details   []Detail    `json:"details,omitempty"`
	Errors    []ErrorBody `json:"errors,omitempty"`
	Limit     *Limit      `json:"limit,omitempty"`
}

// Detail is one detail of an ErrorBody.
type Detail struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
}

// Limit names the limit a limit-related ErrorBody is about.
type Limit struct {
	Key       string `json:"key,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Value     int64  `json:"value,omitempty"`
}

// FieldConfig describes the profile fields of an entity type (deprecated API).
type FieldConfig struct {
	ID            string     `json:"id,omitempty"`
	Name          string     `json:"name,omitempty"`
	EntityType    EntityType `json:"entityType,omitempty"`
	State         string     `json:"state,omitempty"`
	Sections      []Section  `json:"sections,omitempty"`
	Version       string     `json:"version,omitempty"`
	SchemaVersion string     `json:"schemaVersion,omitempty"`
	SelfURI       string     `json:"selfUri,omitempty"`
}

// Section is a section of a FieldConfig.
type Section struct {
	FieldList       []FieldList `json:"fieldList,omitempty"`
	InstructionText string      `json:"instructionText,omitempty"`
	Key             string      `json:"key,omitempty"`
	State           string      `json:"state,omitempty"`
}

// FieldList is one field of a Section; its Key is what GetGroupProfile's
// fields accept.
type FieldList struct {
	CustomLabels    bool                      `json:"customLabels,omitempty"`
	InstructionText string                    `json:"instructionText,omitempty"`
	Key             string                    `json:"key,omitempty"`
	LabelKeys       []string                  `json:"labelKeys,omitempty"`
	Params          map[string]jsontext.Value `json:"params,omitempty"`
	Repeatable      bool                      `json:"repeatable,omitempty"`
	State           string                    `json:"state,omitempty"`
	Type            string                    `json:"type,omitempty"`
	Required        bool                      `json:"required,omitempty"`
	Gdpr            bool                      `json:"gdpr,omitempty"`
}

// GroupProfile is the deprecated profile view of a group.
type GroupProfile struct {
	ID           string `json:"id,omitempty"`
	Name         string `json:"name,omitempty"`
	State        State  `json:"state,omitempty"`
	DateModified string `json:"dateModified,omitempty"`
	Version      int    `json:"version"`
	SelfURI      string `json:"selfUri,omitempty"`
}

// UserMe is the caller's own user with its authorization
// (GET /users/me?expand=authorization), used for caller permissions.
type UserMe struct {
	ID            string            `json:"id,omitempty"`
	Name          string            `json:"name,omitempty"`
	Authorization UserAuthorization `json:"authorization"`
}

// UserAuthorization is a user's roles and the permissions they grant, e.g.
// "directory:group:edit" (wildcards such as "directory:*:*" may appear).
type UserAuthorization struct {
	Roles       []DomainRole `json:"roles,omitempty"`
	Permissions []string     `json:"permissions,omitempty"`
}

// DomainRole is a role granted to a user.
type DomainRole struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}
